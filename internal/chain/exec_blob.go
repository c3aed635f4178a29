package chain

import (
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
)

func (c *ctx) execRegisterBlob(p *RegisterBlob) error {
	s, err := c.ownedStorage(p.Storage)
	if err != nil {
		return err
	}
	if p.EncodingType != redstuff.EncodingRS2 {
		return errorf(ErrUnsupportedEncoding, "encoding type %d", p.EncodingType)
	}
	encoded, err := c.app.codec.EncodedLength(p.Size)
	if err != nil {
		if errors.Is(err, redstuff.ErrDataTooLarge) {
			return errorf(ErrBlobTooLarge, "%d bytes", p.Size)
		}
		return errorf(ErrBlobTooLarge, "%v", err)
	}
	now := c.sys.Epoch
	if now < s.StartEpoch || now >= s.EndEpoch {
		return errorf(ErrExpired, "storage covers [%d, %d), current epoch %d", s.StartEpoch, s.EndEpoch, now)
	}
	if encoded > s.Size {
		return errorf(ErrStorageTooSmall, "blob of %d bytes encodes to %d, storage holds %d", p.Size, encoded, s.Size)
	}
	if got := redstuff.DeriveBlobID(p.EncodingType, p.Size, merkle.Node(p.RootHash)); got != p.BlobID {
		return errorf(ErrBlobIDMismatch, "root hash and size give %s, not %s", got, p.BlobID)
	}
	fee, err := mul(c.sys.WritePrice, StorageUnits(encoded))
	if err != nil {
		return err
	}
	if err := c.debit(c.sender, fee); err != nil {
		return err
	}
	f := getFuture(c.kv, now)
	f.Rewards += fee
	putFuture(c.kv, f)

	deleteObject(c.kv, s)
	embedded := *s
	embedded.Owner = Address{}
	b := &Blob{
		ID:              c.newObjectID(),
		Owner:           c.sender,
		RegisteredEpoch: now,
		BlobID:          p.BlobID,
		Size:            p.Size,
		EncodingType:    p.EncodingType,
		Storage:         embedded,
		Deletable:       p.Deletable,
	}
	createObject(c.kv, b)

	st := getBlobStatus(c.kv, p.BlobID)
	if b.Deletable {
		st.DeletableRegistered++
		st.DeletableRegisteredEnd = max(st.DeletableRegisteredEnd, b.EndEpoch())
	} else {
		st.PermanentRegistered++
		st.PermanentRegisteredEnd = max(st.PermanentRegisteredEnd, b.EndEpoch())
	}
	putBlobStatus(c.kv, &st)
	c.emit(&BlobRegistered{Epoch: now, BlobID: b.BlobID, Size: b.Size, EncodingType: b.EncodingType,
		EndEpoch: b.EndEpoch(), Deletable: b.Deletable, ObjectID: b.ID})
	return nil
}

// execReserveAndRegister runs ReserveSpace and then RegisterBlob on the Storage it created.
// The transaction's overlay makes the pair atomic: a failed registration discards the
// reservation with everything else.
func (c *ctx) execReserveAndRegister(p *ReserveAndRegister) error {
	if err := c.execReserveSpace(&ReserveSpace{Size: p.StorageSize, EpochsAhead: p.EpochsAhead}); err != nil {
		return err
	}
	storage := c.created[len(c.created)-1]
	return c.execRegisterBlob(&RegisterBlob{Storage: storage, BlobID: p.BlobID, RootHash: p.RootHash,
		Size: p.Size, EncodingType: p.EncodingType, Deletable: p.Deletable})
}

func (c *ctx) execCertifyBlob(p *CertifyBlob) error {
	b, err := c.ownedBlob(p.Blob)
	if err != nil {
		return err
	}
	if b.Certified {
		return errorf(ErrAlreadyCertified, "blob object %s certified in epoch %d", b.ID, b.CertifiedEpoch)
	}
	epoch, contents, err := parseProtocolMessage(p.Certificate.Message, IntentBlobCertification)
	if err != nil {
		return err
	}
	if epoch != c.sys.Epoch {
		return errorf(ErrWrongEpoch, "certificate for epoch %d, current epoch %d", epoch, c.sys.Epoch)
	}
	blobID, deletable, object, err := parseConfirmation(contents)
	if err != nil {
		return err
	}
	if blobID != b.BlobID {
		return errorf(ErrBlobIDMismatch, "certificate for %s, blob object holds %s", blobID, b.BlobID)
	}
	if deletable != b.Deletable || (deletable && object != b.ID) {
		return errorf(ErrBadCertificate, "persistence type does not match the blob object")
	}
	if c.sys.Epoch >= b.EndEpoch() {
		return errorf(ErrExpired, "blob expired at epoch %d", b.EndEpoch())
	}
	if err := c.verifyCertificate(&p.Certificate, committee.Quorum); err != nil {
		return err
	}
	b.Certified, b.CertifiedEpoch = true, c.sys.Epoch
	putObject(c.kv, b)
	c.indexCertified(b)

	st := getBlobStatus(c.kv, b.BlobID)
	if b.Deletable {
		st.DeletableCertified++
		st.DeletableCertifiedEnd = max(st.DeletableCertifiedEnd, b.EndEpoch())
	} else {
		st.PermanentCertified++
		st.PermanentCertifiedEnd = max(st.PermanentCertifiedEnd, b.EndEpoch())
	}
	if !st.HasInitialCertifiedEpoch || st.InitialCertifiedEpoch > c.sys.Epoch {
		st.HasInitialCertifiedEpoch, st.InitialCertifiedEpoch = true, c.sys.Epoch
	}
	putBlobStatus(c.kv, &st)
	c.emitCertified(b, false)
	return nil
}

func (c *ctx) emitCertified(b *Blob, extension bool) {
	c.emit(&BlobCertified{Epoch: b.CertifiedEpoch, BlobID: b.BlobID, EndEpoch: b.EndEpoch(),
		Deletable: b.Deletable, ObjectID: b.ID, IsExtension: extension})
}

// checkExtensible checks that b is certified and not expired.
func (c *ctx) checkExtensible(b *Blob) error {
	if !b.Certified {
		return errorf(ErrNotCertified, "blob object %s", b.ID)
	}
	if c.sys.Epoch >= b.EndEpoch() {
		return errorf(ErrExpired, "blob expired at epoch %d", b.EndEpoch())
	}
	return nil
}

// extend extends b by epochs, paying with pay, and records the new end.
func (c *ctx) extend(b *Blob, epochs uint32, pay func(uint64) error) error {
	if err := c.checkExtensible(b); err != nil {
		return err
	}
	end := b.EndEpoch()
	limit := uint64(c.sys.Epoch) + uint64(c.params.MaxEpochsAhead)
	if epochs == 0 || uint64(end)+uint64(epochs) > limit {
		return errorf(ErrInvalidEpochs, "extending end %d by %d epochs exceeds epoch %d", end, epochs, limit)
	}
	if err := c.reserve(b.Storage.Size, end, end+epochs, pay); err != nil {
		return err
	}
	b.Storage.EndEpoch = end + epochs
	c.extended(b)
	return nil
}

// extended records a new end epoch of a certified blob and emits the extension event.
func (c *ctx) extended(b *Blob) {
	putObject(c.kv, b)
	c.indexExtended(b)
	st := getBlobStatus(c.kv, b.BlobID)
	if b.Deletable {
		st.DeletableRegisteredEnd = max(st.DeletableRegisteredEnd, b.EndEpoch())
		st.DeletableCertifiedEnd = max(st.DeletableCertifiedEnd, b.EndEpoch())
	} else {
		st.PermanentRegisteredEnd = max(st.PermanentRegisteredEnd, b.EndEpoch())
		st.PermanentCertifiedEnd = max(st.PermanentCertifiedEnd, b.EndEpoch())
	}
	putBlobStatus(c.kv, &st)
	c.emitCertified(b, true)
}

func (c *ctx) execExtendBlob(p *ExtendBlob) error {
	b, err := c.ownedBlob(p.Blob)
	if err != nil {
		return err
	}
	return c.extend(b, p.Epochs, c.payFromSender)
}

func (c *ctx) execExtendBlobWithStorage(p *ExtendBlobWithStorage) error {
	b, err := c.ownedBlob(p.Blob)
	if err != nil {
		return err
	}
	if err := c.checkExtensible(b); err != nil {
		return err
	}
	s, err := c.ownedStorage(p.Storage)
	if err != nil {
		return err
	}
	if s.Size != b.Storage.Size || s.StartEpoch != b.EndEpoch() || s.EndEpoch <= b.EndEpoch() {
		return errorf(ErrStorageMismatch, "storage [%d, %d) of %d bytes does not continue blob storage [%d, %d) of %d bytes",
			s.StartEpoch, s.EndEpoch, s.Size, b.Storage.StartEpoch, b.EndEpoch(), b.Storage.Size)
	}
	b.Storage.EndEpoch = s.EndEpoch
	deleteObject(c.kv, s)
	c.extended(b)
	return nil
}

func (c *ctx) execDeleteBlob(p *DeleteBlob) error {
	b, err := c.ownedBlob(p.Blob)
	if err != nil {
		return err
	}
	if !b.Deletable {
		return errorf(ErrNotDeletable, "blob object %s is permanent", b.ID)
	}
	if c.sys.Epoch >= b.EndEpoch() {
		return errorf(ErrExpired, "blob expired at epoch %d", b.EndEpoch())
	}
	deleteObject(c.kv, b)
	if b.Certified {
		c.indexDeleted(b.ID)
	}
	storage := b.Storage
	storage.Owner = c.sender
	createObject(c.kv, &storage)

	st := getBlobStatus(c.kv, b.BlobID)
	st.DeletableRegistered--
	if b.Certified {
		st.DeletableCertified--
	}
	putBlobStatus(c.kv, &st)
	c.emit(&BlobDeleted{Epoch: c.sys.Epoch, BlobID: b.BlobID, EndEpoch: b.EndEpoch(), ObjectID: b.ID, WasCertified: b.Certified})
	return nil
}

func (c *ctx) execBurnBlob(p *BurnBlob) error {
	b, err := c.ownedBlob(p.Blob)
	if err != nil {
		return err
	}
	deleteObject(c.kv, b)
	return nil
}

func (c *ctx) execSetAttribute(p *SetBlobAttribute) error {
	b, err := c.ownedBlob(p.Blob)
	if err != nil {
		return err
	}
	if p.Key == "" || !utf8.ValidString(p.Key) || !utf8.ValidString(p.Value) {
		return errorf(ErrInvalidArgument, "attribute key must be a non-empty UTF-8 string")
	}
	i, found := slices.BinarySearchFunc(b.Attributes, p.Key, func(a Attribute, k string) int { return compareStrings(a.Key, k) })
	if found {
		b.Attributes[i].Value = p.Value
	} else {
		if len(b.Attributes) >= MaxAttributes {
			return errorf(ErrInvalidArgument, "blob has the maximum of %d attributes", MaxAttributes)
		}
		b.Attributes = slices.Insert(b.Attributes, i, Attribute{Key: p.Key, Value: p.Value})
	}
	putObject(c.kv, b)
	return nil
}

func (c *ctx) execRemoveAttribute(p *RemoveBlobAttribute) error {
	b, err := c.ownedBlob(p.Blob)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearchFunc(b.Attributes, p.Key, func(a Attribute, k string) int { return compareStrings(a.Key, k) })
	if !found {
		return errorf(ErrUnknownAttribute, "%q", p.Key)
	}
	b.Attributes = slices.Delete(b.Attributes, i, i+1)
	if len(b.Attributes) == 0 {
		b.Attributes = nil
	}
	putObject(c.kv, b)
	return nil
}

func (c *ctx) execInvalidate(p *InvalidateBlobID) error {
	epoch, contents, err := parseProtocolMessage(p.Certificate.Message, IntentInvalidBlobID)
	if err != nil {
		return err
	}
	if epoch != c.sys.Epoch {
		return errorf(ErrWrongEpoch, "certificate for epoch %d, current epoch %d", epoch, c.sys.Epoch)
	}
	if len(contents) != 32 {
		return errorf(ErrBadCertificate, "invalid-blob message contents of %d bytes", len(contents))
	}
	if err := c.verifyCertificate(&p.Certificate, committee.Validity); err != nil {
		return err
	}
	var id redstuff.BlobID
	copy(id[:], contents)
	st := getBlobStatus(c.kv, id)
	if !st.Invalid {
		st.Invalid, st.InvalidatedEpoch = true, epoch
		putBlobStatus(c.kv, &st)
	}
	c.emit(&InvalidBlobID{Epoch: epoch, BlobID: id})
	return nil
}

func (c *ctx) sharedBlob(id ObjectID) (*Blob, error) {
	o, err := c.object(id, KindBlob)
	if err != nil {
		return nil, err
	}
	b := o.(*Blob)
	if !b.Shared {
		return nil, errorf(ErrSharedBlob, "blob %s is not shared", id)
	}
	return b, nil
}

func (c *ctx) execShareBlob(p *ShareBlob) error {
	b, err := c.ownedBlob(p.Blob)
	if err != nil {
		return err
	}
	if err := c.debit(c.sender, p.Funds); err != nil {
		return err
	}
	deleteObject(c.kv, b)
	b.Owner, b.Shared, b.Funds = Address{}, true, p.Funds
	createObject(c.kv, b)
	return nil
}

func (c *ctx) execFundSharedBlob(p *FundSharedBlob) error {
	if p.Amount == 0 {
		return errorf(ErrInvalidArgument, "zero amount")
	}
	b, err := c.sharedBlob(p.Blob)
	if err != nil {
		return err
	}
	if err := c.debit(c.sender, p.Amount); err != nil {
		return err
	}
	b.Funds += p.Amount // bounded by the supply
	putObject(c.kv, b)
	return nil
}

func (c *ctx) execExtendSharedBlob(p *ExtendSharedBlob) error {
	b, err := c.sharedBlob(p.Blob)
	if err != nil {
		return err
	}
	return c.extend(b, p.Epochs, func(amount uint64) error {
		if b.Funds < amount {
			return errorf(ErrInsufficientFunds, "shared blob holds %d, extension costs %d", b.Funds, amount)
		}
		b.Funds -= amount
		return nil
	})
}
