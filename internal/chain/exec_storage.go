package chain

func (c *ctx) execTransfer(p *Transfer) error {
	if p.Amount == 0 {
		return errorf(ErrInvalidArgument, "zero amount")
	}
	if err := c.debit(c.sender, p.Amount); err != nil {
		return err
	}
	c.credit(p.To, p.Amount)
	return nil
}

func (c *ctx) execTransferWithMemo(p *TransferWithMemo) error {
	if err := c.execTransfer(&Transfer{To: p.To, Amount: p.Amount}); err != nil {
		return err
	}
	c.emit(&TransferredWithMemo{From: c.sender, To: p.To, Amount: p.Amount, Memo: p.Memo})
	return nil
}

// reserve accounts size bytes of capacity in epochs [start, end), paying perEpoch into each
// epoch's reward slot from pay. It checks capacity in every epoch first.
func (c *ctx) reserve(size uint64, start, end uint32, pay func(uint64) error) error {
	perEpoch, err := mul(c.sys.StoragePrice, StorageUnits(size))
	if err != nil {
		return err
	}
	total, err := mul(perEpoch, uint64(end-start))
	if err != nil {
		return err
	}
	slots := make([]FutureEpoch, 0, end-start)
	for e := start; e < end; e++ {
		f := getFuture(c.kv, e)
		used, err := add(f.UsedCapacity, size)
		if err != nil || used > c.sys.TotalCapacity {
			return errorf(ErrCapacityExceeded, "epoch %d: %d of %d bytes used, %d more requested",
				e, f.UsedCapacity, c.sys.TotalCapacity, size)
		}
		f.UsedCapacity = used
		f.Rewards += perEpoch // bounded by the supply
		slots = append(slots, f)
	}
	if err := pay(total); err != nil {
		return err
	}
	for _, f := range slots {
		putFuture(c.kv, f)
	}
	return nil
}

func (c *ctx) payFromSender(amount uint64) error { return c.debit(c.sender, amount) }

func (c *ctx) execReserveSpace(p *ReserveSpace) error {
	if p.Size == 0 {
		return errorf(ErrInvalidArgument, "zero size")
	}
	if p.EpochsAhead == 0 || p.EpochsAhead > c.params.MaxEpochsAhead {
		return errorf(ErrInvalidEpochs, "epochs ahead %d not in 1..%d", p.EpochsAhead, c.params.MaxEpochsAhead)
	}
	start := c.sys.Epoch
	end := start + p.EpochsAhead
	if err := c.reserve(p.Size, start, end, c.payFromSender); err != nil {
		return err
	}
	createObject(c.kv, &Storage{ID: c.newObjectID(), Owner: c.sender, StartEpoch: start, EndEpoch: end, Size: p.Size})
	return nil
}

func (c *ctx) execSplitBySize(p *SplitStorageBySize) error {
	s, err := c.ownedStorage(p.Storage)
	if err != nil {
		return err
	}
	if p.Size == 0 || p.Size >= s.Size {
		return errorf(ErrStorageTooSmall, "cannot split %d bytes off a storage of %d", p.Size, s.Size)
	}
	rest := &Storage{ID: c.newObjectID(), Owner: c.sender, StartEpoch: s.StartEpoch, EndEpoch: s.EndEpoch, Size: s.Size - p.Size}
	s.Size = p.Size
	putObject(c.kv, s)
	createObject(c.kv, rest)
	return nil
}

func (c *ctx) execSplitByEpoch(p *SplitStorageByEpoch) error {
	s, err := c.ownedStorage(p.Storage)
	if err != nil {
		return err
	}
	if p.Epoch <= s.StartEpoch || p.Epoch >= s.EndEpoch {
		return errorf(ErrInvalidEpochs, "split epoch %d not inside [%d, %d)", p.Epoch, s.StartEpoch, s.EndEpoch)
	}
	rest := &Storage{ID: c.newObjectID(), Owner: c.sender, StartEpoch: p.Epoch, EndEpoch: s.EndEpoch, Size: s.Size}
	s.EndEpoch = p.Epoch
	putObject(c.kv, s)
	createObject(c.kv, rest)
	return nil
}

// fuseInto merges b into a: same period (sizes add) or same size and adjacent periods.
func fuseInto(a, b *Storage) error {
	switch {
	case a.StartEpoch == b.StartEpoch && a.EndEpoch == b.EndEpoch:
		size, err := add(a.Size, b.Size)
		if err != nil {
			return err
		}
		a.Size = size
	case a.Size == b.Size && a.EndEpoch == b.StartEpoch:
		a.EndEpoch = b.EndEpoch
	case a.Size == b.Size && b.EndEpoch == a.StartEpoch:
		a.StartEpoch = b.StartEpoch
	default:
		return errorf(ErrStorageMismatch, "[%d, %d) %d bytes and [%d, %d) %d bytes",
			a.StartEpoch, a.EndEpoch, a.Size, b.StartEpoch, b.EndEpoch, b.Size)
	}
	return nil
}

func (c *ctx) execFuse(p *FuseStorage) error {
	if p.First == p.Second {
		return errorf(ErrInvalidArgument, "cannot fuse a storage with itself")
	}
	a, err := c.ownedStorage(p.First)
	if err != nil {
		return err
	}
	b, err := c.ownedStorage(p.Second)
	if err != nil {
		return err
	}
	if err := fuseInto(a, b); err != nil {
		return err
	}
	putObject(c.kv, a)
	deleteObject(c.kv, b)
	return nil
}

func (c *ctx) execTransferObject(p *TransferObject) error {
	o, ok := getObject(c.kv, p.Object)
	if !ok {
		return errorf(ErrUnknownObject, "%s", p.Object)
	}
	if b, isBlob := o.(*Blob); isBlob && b.Shared {
		return errorf(ErrSharedBlob, "blob %s is shared", p.Object)
	}
	if o.OwnerAddress() != c.sender {
		return errorf(ErrNotOwner, "%s %s", o.Kind(), p.Object)
	}
	if p.To == (Address{}) {
		return errorf(ErrInvalidArgument, "transfer to the zero address")
	}
	if b, ok := o.(*Bucket); ok {
		if err := c.transferBucket(b, p.To); err != nil {
			return err
		}
	}
	deleteObject(c.kv, o)
	switch o := o.(type) {
	case *Bucket:
		o.Owner = p.To
	case *Site:
		o.Owner = p.To
	case *Storage:
		o.Owner = p.To
	case *Blob:
		o.Owner = p.To
	case *StakedWal:
		o.Owner = p.To
	}
	createObject(c.kv, o)
	return nil
}

func (c *ctx) execDestroyStorage(p *DestroyStorage) error {
	s, err := c.ownedStorage(p.Storage)
	if err != nil {
		return err
	}
	if s.EndEpoch > c.sys.Epoch {
		return errorf(ErrInvalidEpochs, "storage is valid until epoch %d", s.EndEpoch)
	}
	deleteObject(c.kv, s)
	return nil
}
