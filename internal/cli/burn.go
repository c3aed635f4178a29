package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// burnOutput is burn-blobs' --json output (Walrus prints none): the burned object IDs.
type burnOutput struct {
	ObjectIDs []string `json:"objectIds"`
}

func burnBlobsCommand(ce *clientEnv) *cobra.Command {
	var objectIDs []string
	var all, allExpired, yes bool
	cmd := &cobra.Command{
		Use:   "burn-blobs (--object-ids ID... | --all | --all-expired) [--yes]",
		Short: "Destroy owned blob objects, keeping their data until it expires",
		Long: "Burn blob objects the wallet owns: the objects are destroyed without deleting the data and\n" +
			"without refunding the storage. Afterwards the blobs can no longer be extended, and deletable\n" +
			"ones can no longer be deleted: control over them is lost. --all burns every owned blob\n" +
			"object, --all-expired the expired ones. Asks for confirmation unless --yes is given.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, set := range []bool{len(objectIDs) > 0, all, allExpired} {
				if set {
					n++
				}
			}
			if n != 1 {
				return usageError{errors.New("give exactly one of --object-ids, --all and --all-expired")}
			}
			ids, err := parseObjectIDArgs("--object-ids", objectIDs)
			if err != nil {
				return err
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			if len(ids) > 0 {
				for _, id := range ids {
					if _, err := ownedBlobArg(ce, s, id); err != nil {
						return err
					}
				}
			} else {
				blobs, err := s.client.ListBlobs(ce.ctx, true)
				if err != nil {
					return explain(err, s)
				}
				clock, err := s.clock(ce.ctx)
				if err != nil {
					return err
				}
				for _, b := range blobs {
					if all || b.EndEpoch() <= clock.sys.Epoch {
						ids = append(ids, b.ID)
					}
				}
				if len(ids) == 0 {
					what := "blob objects"
					if allExpired {
						what = "expired blob objects"
					}
					if ce.json {
						return ce.printJSON(burnOutput{ObjectIDs: []string{}})
					}
					fmt.Fprintf(ce.stdout, "The wallet owns no %s.\n", what)
					return nil
				}
			}
			if !yes {
				what := plural(len(ids), "blob object", "blob objects")
				if !isTerminal(ce.stdin) {
					return withHint(fmt.Errorf("refusing to burn %s without confirmation", what), "pass --yes")
				}
				fmt.Fprintf(ce.stderr, "About to burn %s:\n", what)
				for _, id := range ids {
					fmt.Fprintf(ce.stderr, "  %s\n", id)
				}
				fmt.Fprint(ce.stderr, "Their blobs can then no longer be extended or deleted. Burn them? [y/N] ")
				line, _ := bufio.NewReader(ce.stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return errors.New("burning cancelled; nothing was burned")
				}
			}
			done, err := s.client.Burn(ce.ctx, ids)
			out := burnOutput{ObjectIDs: []string{}}
			for _, id := range done {
				out.ObjectIDs = append(out.ObjectIDs, id.String())
			}
			if err != nil {
				if ce.json && len(done) > 0 {
					_ = ce.printJSON(out)
				}
				return explain(err, s)
			}
			if ce.json {
				return ce.printJSON(out)
			}
			for _, id := range done {
				fmt.Fprintf(ce.stdout, "Burned blob object %s\n", id)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&objectIDs, "object-ids", nil, "the owned blob objects to burn")
	fl.BoolVar(&all, "all", false, "burn every blob object the wallet owns")
	fl.BoolVar(&allExpired, "all-expired", false, "burn every expired blob object the wallet owns")
	fl.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	fl.SetNormalizeFunc(flagAliases(map[string]string{"object-id": "object-ids"}))
	return cmd
}
