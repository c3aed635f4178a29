package chain

import "encoding/binary"

// Key layout. Every record is stored BCS-encoded under a key that starts with a one-letter
// table prefix and a slash; integers in keys are big-endian so that keys sort numerically.
//
//	p                                   Params
//	s                                   SystemState
//	a/<address 32>                      Account
//	o/<object ID 32>                    Object (enum: Storage | Blob | StakedWal)
//	i/<owner 32><kind 1><object ID 32>  owner index, empty value
//	n/<node ID 32>                      Pool
//	k/<BLS public key 48>               node ID holding the key (uniqueness)
//	r/<node ID 32><epoch 4>             ExchangeRate of a pool at an epoch
//	c/<epoch 4>                         CommitteeRecord of an epoch
//	f/<epoch 4>                         FutureEpoch accounting slot
//	b/<blob ID 32>                      BlobStatus
//	e/<sequence 8>                      Event, append-only
//	v/<epoch 4><candidate 32><voter 32> slashing vote, empty value
//	t/<epoch 4><candidate 32>           SlashTally
//	m                                   u64: FROST minted by the faucet in all
//	m/<address 32>                      u64: FROST minted by the faucet to an address
//	x/<owner 32><name>                  bucket ID [32]u8 of the owner's bucket of that name
//	y/<bucket 32><key>                  Entry without its key (storedEntry)
//	u/<bucket 32><upload ID>            Upload without its ID (storedUpload)
//	q/<bucket 32><key> 00 <upload ID>   empty: the uploads in key, then upload ID order
//	w/<bucket 32><upload ID> 00 <part 4>  Part
//	zs/<site 32><path>                  Resource without its path (storedResource)
//	zn/<name>                           SiteName without its name (storedSiteName)
//	g                                   Settings (governed parameters; absent until a proposal applies)
//	gp/<epoch 4><proposal 32>           Proposal made in that epoch
//	gv/<proposal 32><node 32>           governance vote, empty value
//	C/<epoch 4>                         ChallengeRecord of an epoch (chains with challenges)
//	cr/<epoch 4><node 32>               NodeChallenge: a member's reveal and result in an epoch
//	cs/<node 32>                        u32: the node's consecutive failed challenges
//	cc                                  u64: the number of counted positions (ranks 0 to cc-1)
//	ck/<rank 8>                         RankedBlob: the counted position of a rank and its blob ID
//	cq/<position 8>                     u64: the rank of a counted position
//	cp/<position 8>                     IndexedBlob at a position of the challenge index
//	co/<blob object 32>                 u64: the position of a certified Blob object
//	ce/<end epoch 4><position 8>        empty: positions by end epoch (expiry schedule)
//	cn/<position 8>                     empty: certified this epoch, counted from the next
//	cd/<position 8>                     empty: deleted this epoch, uncounted from the next
//
// Object keys and upload IDs contain no NUL byte (CheckObjectKey, CheckUploadID), so q/
// records sort by key, then upload ID, the entries and uploads under a key prefix are one
// range, and the parts of one upload are one range.
const (
	prefixParams     = "p"
	prefixSystem     = "s"
	prefixAccount    = "a/"
	prefixObject     = "o/"
	prefixOwned      = "i/"
	prefixPool       = "n/"
	prefixBLSKey     = "k/"
	prefixRate       = "r/"
	prefixCommittee  = "c/"
	prefixFuture     = "f/"
	prefixBlob       = "b/"
	prefixEvent      = "e/"
	prefixVote       = "v/"
	prefixTally      = "t/"
	prefixFaucet     = "m/"
	keyFaucetTotal   = "m"
	prefixBucketName = "x/"
	prefixEntry      = "y/"
	prefixUpload     = "u/"
	prefixPart       = "w/"
	prefixUploadKey  = "q/"
	prefixResource   = "zs/"
	prefixSiteName   = "zn/"
	prefixProposal   = "gp/"
	prefixGovVote    = "gv/"
	prefixChalRecord = "C/"
	prefixChalNode   = "cr/"
	prefixChalStreak = "cs/"
	keyRankCount     = "cc"
	prefixRank       = "ck/"
	prefixRankOf     = "cq/"
	prefixIndexed    = "cp/"
	prefixIndexPos   = "co/"
	prefixIndexEnd   = "ce/"
	prefixIndexNew   = "cn/"
	prefixIndexDel   = "cd/"
)

func keySettings() []byte                { return []byte("g") }
func keyChalRecord(epoch uint32) []byte  { return key(prefixChalRecord, be32(epoch)) }
func keyChalStreak(node ObjectID) []byte { return key(prefixChalStreak, node[:]) }
func keyRank(rank uint64) []byte         { return key(prefixRank, be64(rank)) }
func keyRankOf(pos uint64) []byte        { return key(prefixRankOf, be64(pos)) }
func keyIndexed(pos uint64) []byte       { return key(prefixIndexed, be64(pos)) }
func keyIndexPos(obj ObjectID) []byte    { return key(prefixIndexPos, obj[:]) }
func keyIndexNew(pos uint64) []byte      { return key(prefixIndexNew, be64(pos)) }
func keyIndexDel(pos uint64) []byte      { return key(prefixIndexDel, be64(pos)) }
func keyIndexEnd(end uint32, pos uint64) []byte {
	return key(prefixIndexEnd, be32(end), be64(pos))
}
func keyChalNode(epoch uint32, node ObjectID) []byte {
	return key(prefixChalNode, be32(epoch), node[:])
}
func keyProposal(epoch uint32, id [32]byte) []byte {
	return key(prefixProposal, be32(epoch), id[:])
}
func keyGovVote(id [32]byte, node ObjectID) []byte {
	return key(prefixGovVote, id[:], node[:])
}

func key(prefix string, parts ...[]byte) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, prefix...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func keyParams() []byte                   { return []byte(prefixParams) }
func keySystem() []byte                   { return []byte(prefixSystem) }
func keyAccount(a Address) []byte         { return key(prefixAccount, a[:]) }
func keyObject(id ObjectID) []byte        { return key(prefixObject, id[:]) }
func keyPool(id ObjectID) []byte          { return key(prefixPool, id[:]) }
func keyBLS(pk [48]byte) []byte           { return key(prefixBLSKey, pk[:]) }
func keyCommittee(epoch uint32) []byte    { return key(prefixCommittee, be32(epoch)) }
func keyFuture(epoch uint32) []byte       { return key(prefixFuture, be32(epoch)) }
func keyBlobStatus(id [32]byte) []byte    { return key(prefixBlob, id[:]) }
func keyEvent(seq uint64) []byte          { return key(prefixEvent, be64(seq)) }
func keyRate(n ObjectID, e uint32) []byte { return key(prefixRate, n[:], be32(e)) }
func keyFaucet(a Address) []byte          { return key(prefixFaucet, a[:]) }
func keyOwned(owner Address, kind ObjectKind, id ObjectID) []byte {
	return key(prefixOwned, owner[:], []byte{byte(kind)}, id[:])
}
func keyOwnedPrefix(owner Address, kind ObjectKind) []byte {
	return key(prefixOwned, owner[:], []byte{byte(kind)})
}
func keyVote(epoch uint32, candidate, voter ObjectID) []byte {
	return key(prefixVote, be32(epoch), candidate[:], voter[:])
}
func keyTally(epoch uint32, candidate ObjectID) []byte {
	return key(prefixTally, be32(epoch), candidate[:])
}

func keyBucketName(owner Address, name string) []byte {
	return key(prefixBucketName, owner[:], []byte(name))
}
func keyBucketNamePrefix(owner Address) []byte { return key(prefixBucketName, owner[:]) }
func keyEntry(bucket ObjectID, k string) []byte {
	return key(prefixEntry, bucket[:], []byte(k))
}
func keyEntryPrefix(bucket ObjectID) []byte { return key(prefixEntry, bucket[:]) }
func keyUpload(bucket ObjectID, id string) []byte {
	return key(prefixUpload, bucket[:], []byte(id))
}
func keyUploadByKey(bucket ObjectID, k, id string) []byte {
	return key(prefixUploadKey, bucket[:], []byte(k), []byte{0}, []byte(id))
}
func keyUploadByKeyPrefix(bucket ObjectID) []byte { return key(prefixUploadKey, bucket[:]) }
func keyPart(bucket ObjectID, upload string, number uint32) []byte {
	return key(prefixPart, bucket[:], []byte(upload), []byte{0}, be32(number))
}
func keyPartPrefix(bucket ObjectID, upload string) []byte {
	return key(prefixPart, bucket[:], []byte(upload), []byte{0})
}

func keyResource(site ObjectID, path string) []byte {
	return key(prefixResource, site[:], []byte(path))
}
func keyResourcePrefix(site ObjectID) []byte { return key(prefixResource, site[:]) }
func keySiteName(name string) []byte         { return key(prefixSiteName, []byte(name)) }
