package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// healthOutput is health's --json output (Walrus's ServiceHealthInfoOutput).
type healthOutput struct {
	HealthInfo []nodeHealthOutput `json:"healthInfo"`
	// LatestSeq is Walrus's latest Sui checkpoint; this chain has none (always null).
	LatestSeq *uint64 `json:"latestSeq"`
}

// nodeHealthOutput is one node's health (Walrus's NodeHealthOutput); HealthInfo is a
// Rust Result: {"Ok": {...}} or {"Err": "message"}.
type nodeHealthOutput struct {
	NodeID           string       `json:"nodeId"`
	NodeURL          string       `json:"nodeUrl"`
	NodeName         string       `json:"nodeName"`
	NetworkPublicKey string       `json:"networkPublicKey"`
	Shards           int          `json:"shards"`
	HealthInfo       healthResult `json:"healthInfo"`
}

type healthResult struct {
	Ok  *sn.HealthInfo `json:"Ok,omitempty"`
	Err *string        `json:"Err,omitempty"`
}

// healthSortKeys are --sort-by's values, as Walrus's.
var healthSortKeys = []string{"status", "id", "name", "url"}

func healthCommand(ce *clientEnv) *cobra.Command {
	var detail, committee, activeSet, desc bool
	var nodeIDs, nodeURLs []string
	var sortBy string
	cmd := &cobra.Command{
		Use:   "health [--committee | --active-set | --node-ids ID... | --node-urls URL...] [--detail]",
		Short: "Show the health of storage nodes",
		Long: "Ask storage nodes for their health (their /v1/health endpoint): the committee's nodes by\n" +
			"default or with --committee, every registered node with --active-set, or the nodes named by\n" +
			"--node-ids or --node-urls (each flag may be repeated or take comma-separated values).\n" +
			"--detail prints every node's report (uptime, epoch, event progress, shards and each shard's\n" +
			"status) before the summary table.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, set := range []bool{committee, activeSet, len(nodeIDs) > 0, len(nodeURLs) > 0} {
				if set {
					n++
				}
			}
			if n > 1 {
				return usageError{errors.New("give only one of --committee, --active-set, --node-ids and --node-urls")}
			}
			if !slices.Contains(healthSortKeys, sortBy) {
				return usageError{fmt.Errorf("--sort-by %q: want one of %s", sortBy, strings.Join(healthSortKeys, ", "))}
			}
			ids := make([]chain.ObjectID, len(nodeIDs))
			for i, s := range nodeIDs {
				id, err := parseObjectIDArg("--node-ids", s)
				if err != nil {
					return err
				}
				ids[i] = id
			}
			s, err := ce.connect(ce.ctx, false)
			if err != nil {
				return err
			}
			defer s.close()
			nodes, err := selectNodes(ce, s, ids, nodeURLs, activeSet)
			if err != nil {
				return err
			}
			reports := s.client.HealthOf(ce.ctx, int(s.params.NShards), nodes, detail)
			out := healthOutput{HealthInfo: make([]nodeHealthOutput, len(reports))}
			for i, r := range reports {
				o := nodeHealthOutput{NodeID: r.NodeID.String(), NodeName: r.Name, NodeURL: client.NodeURL(r.NetworkAddress), Shards: r.Shards}
				for _, m := range nodes {
					if m.NodeID == r.NodeID {
						o.NetworkPublicKey = base64.StdEncoding.EncodeToString(m.NetworkPublicKey[:])
					}
				}
				if r.Err != nil {
					msg := explain(r.Err, s).Error()
					o.HealthInfo.Err = &msg
				} else {
					o.HealthInfo.Ok = r.Health
				}
				out.HealthInfo[i] = o
			}
			sortHealth(out.HealthInfo, sortBy, desc)
			if ce.json {
				return ce.printJSON(out)
			}
			if detail {
				for _, n := range out.HealthInfo {
					printNodeHealth(ce, n)
				}
				fmt.Fprintln(ce.stdout)
			}
			return printHealthTable(ce, out.HealthInfo)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&detail, "detail", false, "print each node's full report, with every shard's status")
	fl.BoolVar(&committee, "committee", false, "the nodes of the current committee (the default)")
	fl.BoolVar(&activeSet, "active-set", false, "every registered storage node")
	fl.StringSliceVar(&nodeIDs, "node-ids", nil, "the storage nodes with these node IDs")
	fl.StringSliceVar(&nodeURLs, "node-urls", nil, "the storage nodes with these URLs or network addresses (host:port)")
	fl.StringVar(&sortBy, "sort-by", "status", "sort by "+strings.Join(healthSortKeys, ", "))
	fl.BoolVar(&desc, "desc", false, "sort in descending order")
	fl.SetNormalizeFunc(flagAliases(map[string]string{"node-id": "node-ids", "node-url": "node-urls"}))
	return cmd
}

// selectNodes returns the nodes health asks: the committee, every pool (activeSet), or
// the pools named by ID or URL. Committee members carry their shards.
func selectNodes(ce *clientEnv, s *session, ids []chain.ObjectID, urls []string, activeSet bool) ([]chain.MemberInfo, error) {
	sys, err := s.chain.System(ce.ctx)
	if err != nil {
		return nil, explain(err, s)
	}
	committee, err := s.chain.CommitteeAt(ce.ctx, sys.Epoch)
	if err != nil {
		return nil, explain(err, s)
	}
	if len(ids) == 0 && len(urls) == 0 && !activeSet {
		return committee.Members, nil
	}
	shards := map[chain.ObjectID][]uint16{}
	for _, m := range committee.Members {
		shards[m.NodeID] = m.Shards
	}
	info := func(p chain.Pool) chain.MemberInfo {
		return chain.MemberInfo{NodeID: p.NodeID, Name: p.Name, NetworkAddress: p.NetworkAddress,
			PublicKey: p.PublicKey, NetworkPublicKey: p.NetworkPublicKey, Shards: shards[p.NodeID]}
	}
	var out []chain.MemberInfo
	if len(ids) > 0 {
		for _, id := range ids {
			p, err := s.chain.Pool(ce.ctx, id)
			if errors.Is(err, chain.ErrNotFound) {
				return nil, withHint(fmt.Errorf("no storage node with node ID %s", id), "'walrus health --active-set' lists every registered node")
			}
			if err != nil {
				return nil, explain(err, s)
			}
			out = append(out, info(p))
		}
		return out, nil
	}
	pools, err := s.chain.Pools(ce.ctx)
	if err != nil {
		return nil, explain(err, s)
	}
	if activeSet {
		for _, p := range pools {
			out = append(out, info(p))
		}
		return out, nil
	}
	for _, u := range urls {
		want := strings.TrimSuffix(u, "/")
		i := slices.IndexFunc(pools, func(p chain.Pool) bool {
			return p.NetworkAddress == want || client.NodeURL(p.NetworkAddress) == want
		})
		if i < 0 {
			return nil, withHint(fmt.Errorf("no storage node at %s", u), "give the URL 'walrus health' shows (https://host:port) or the node ID")
		}
		out = append(out, info(pools[i]))
	}
	return out, nil
}

// sortHealth orders the reports by key (status puts unreachable nodes last; ties go by
// name), reversed with desc.
func sortHealth(hs []nodeHealthOutput, key string, desc bool) {
	status := func(h nodeHealthOutput) string {
		if h.HealthInfo.Ok == nil {
			return "\xffunreachable"
		}
		return h.HealthInfo.Ok.NodeStatus
	}
	field := func(h nodeHealthOutput) string {
		switch key {
		case "id":
			return h.NodeID
		case "url":
			return h.NodeURL
		case "status":
			return status(h)
		}
		return h.NodeName
	}
	slices.SortStableFunc(hs, func(a, b nodeHealthOutput) int {
		c := strings.Compare(field(a), field(b))
		if c == 0 {
			c = strings.Compare(a.NodeName, b.NodeName)
		}
		if desc {
			return -c
		}
		return c
	})
}

func printHealthTable(ce *clientEnv, hs []nodeHealthOutput) error {
	tw := tabwriter.NewWriter(ce.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tURL\tSHARDS\tSTATUS\tEPOCH\tEVENTS\tREADY SHARDS")
	owned, readOnly := 0, 0
	statuses := map[string]int{}
	for _, n := range hs {
		h := n.HealthInfo.Ok
		if h == nil {
			statuses["unreachable"]++
			fmt.Fprintf(tw, "%s\t%s\t%d\tunreachable: %s\t\t\t\n", n.NodeName, n.NodeURL, n.Shards, *n.HealthInfo.Err)
			continue
		}
		owned += h.ShardSummary.Owned
		readOnly += h.ShardSummary.ReadOnly
		statuses[h.NodeStatus]++
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d/%d\n", n.NodeName, n.NodeURL, n.Shards, h.NodeStatus, h.Epoch,
			h.EventProgress.Persisted, h.ShardSummary.OwnedShardStatus.Ready, h.ShardSummary.Owned)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	keys := make([]string, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, statuses[k])
	}
	fmt.Fprintf(ce.stdout, "%s: %s; owned shards %d, read-only shards %d\n",
		plural(len(hs), "node", "nodes"), strings.Join(parts, ", "), owned, readOnly)
	return nil
}

// printNodeHealth prints one node's full report (health --detail).
func printNodeHealth(ce *clientEnv, n nodeHealthOutput) {
	w := ce.stdout
	fmt.Fprintf(w, "\n%s\nNode ID: %s\nNode URL: %s\nNetwork public key: %s\n", n.NodeName, n.NodeID, n.NodeURL, n.NetworkPublicKey)
	h := n.HealthInfo.Ok
	if h == nil {
		fmt.Fprintf(w, "Error: %s\n", *n.HealthInfo.Err)
		return
	}
	fmt.Fprintf(w, "\nGeneral information\nUptime: %s\nCurrent epoch: %d\nPublic key: %s\nNode status: %s\n",
		time.Duration(h.Uptime).Truncate(time.Second), h.Epoch, base64.StdEncoding.EncodeToString(h.PublicKey), h.NodeStatus)
	fmt.Fprintf(w, "\nEvent progress\nEvents persisted: %d\nEvents pending: %d\n", h.EventProgress.Persisted, h.EventProgress.Pending)
	if i := h.EventProgress.HighestFinishedEventIndex; i != nil {
		fmt.Fprintf(w, "Highest finished event index: %d\n", *i)
	}
	s := h.ShardSummary
	fmt.Fprintf(w, "\nShard summary\nOwned shards: %d\nRead-only shards: %d\n", s.Owned, s.ReadOnly)
	fmt.Fprintf(w, "\nOwned shard status\nUnknown: %d\nReady: %d\nIn transfer: %d\nIn recovery: %d\n",
		s.OwnedShardStatus.Unknown, s.OwnedShardStatus.Ready, s.OwnedShardStatus.InTransfer, s.OwnedShardStatus.InRecovery)
	if d := h.ShardDetail; d != nil {
		for _, part := range []struct {
			title  string
			shards []sn.ShardHealth
		}{{"Owned shard details", d.Owned}, {"Other shard details", d.Other}} {
			if len(part.shards) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s\n", part.title)
			for _, sh := range part.shards {
				fmt.Fprintf(w, "Shard %d: %s\n", sh.Shard, sh.Status)
			}
		}
	}
}
