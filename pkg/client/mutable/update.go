package mutable

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/internal/fanout"
	"github.com/lafs/lafs/pkg/storage"
)

// ErrUncoordinated means another writer changed the file between our read
// of it and our write: nothing of ours replaced their version. Read again
// and retry.
var ErrUncoordinated = errors.New("uncoordinated write: the file changed while we were writing it; read it again and retry")

// ErrReadOnly is returned when a read cap is used to write.
var ErrReadOnly = errors.New("this is a read-only cap: it cannot modify the file")

// checkstring is the prefix a test vector compares to be sure a share is
// still the version we read: version, seqnum, root hash (and the IV in
// SDMF).
func checkstring(l *located) []byte {
	n := 1 + 8 + 32
	if l.raw[0] == VersionSDMF {
		n += saltSize
	}
	return l.raw[:n]
}

// privateKey recovers the file's signing key from a share: the encrypted
// private key decrypts with the writekey, and its public half must hash to
// the cap's fingerprint.
func privateKey(c *caps.Cap, s *Share) (*rsa.PrivateKey, error) {
	der := make([]byte, len(s.EncPrivKey))
	b, err := aes.NewCipher(c.WriteKey)
	if err != nil {
		return nil, err
	}
	cipher.NewCTR(b, make([]byte, aes.BlockSize)).XORKeyStream(der, s.EncPrivKey)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, corrupt("share %d: encrypted private key does not decrypt with the writekey", s.Num)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, corrupt("share %d: private key is not RSA", s.Num)
	}
	pub, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil || subtle.ConstantTimeCompare(caps.PubkeyFingerprint(pub), c.Fingerprint) != 1 {
		return nil, corrupt("share %d: private key does not match the cap", s.Num)
	}
	return rk, nil
}

// Overwrite replaces the contents of the mutable file of writecap c with
// data, as a new version (sequence number + 1) in the file's own format and
// encoding. The servers are asked at once what they hold (each under
// o.Timeout, every one heard out). Every share is rewritten where it is,
// each write guarded by a test that the share still holds the version we
// read: if another writer got there first, Overwrite fails with
// ErrUncoordinated. Share numbers found nowhere are placed on answering
// servers holding none, in permuted order. The first server's writes go
// first, alone, so that of two writers racing from the same reading one
// loses at once, having written nothing; the other servers are then
// written at once.
func Overwrite(ctx context.Context, c *caps.Cap, data []byte, targets []Target, o Options) error {
	if c.WriteKey == nil {
		return ErrReadOnly
	}
	var si storage.StorageIndex
	copy(si[:], c.StorageIndex)
	servers := make([]storage.Server, len(targets))
	for i, t := range targets {
		servers[i] = t.Storage
	}
	m, err := settledMap(ctx, si, servers, o)
	if err != nil {
		return err
	}
	newest, err := newestGood(ctx, c, si, servers, m, o)
	if err != nil {
		return err
	}
	key, err := privateKey(c, newest)
	if err != nil {
		return err
	}
	b, err := Build(key, data, Params{Needed: newest.Needed, Total: newest.Total, Format: newest.Version, Seqnum: newest.Seqnum + 1, MaxSegmentSize: newest.SegmentSize})
	if err != nil {
		return err
	}
	// Where each share number goes: where it is now (every copy), else an
	// answering server without shares of this file.
	where := map[int][]*located{}
	busy := map[int]bool{}
	for _, l := range m.shares {
		where[l.num] = append(where[l.num], l)
		busy[l.server] = true
	}
	writes := map[int]map[uint64]storage.TestWriteVectors{} // by target
	next := 0
	for sh := range b.Shares {
		newLen := uint64(len(b.Shares[sh]))
		write := []storage.WriteVector{{Offset: 0, Data: b.Shares[sh]}}
		copies := where[sh]
		if len(copies) == 0 {
			for next < len(targets) && (busy[next] || !m.answered[next]) {
				next++
			}
			if next == len(targets) {
				continue // nowhere new to put it
			}
			busy[next] = true
			addWrite(writes, next, sh, storage.TestWriteVectors{Test: []storage.TestVector{{Offset: 0, Size: 1, Specimen: []byte{}}}, Write: write, NewLength: &newLen})
			continue
		}
		for _, l := range copies {
			cs := checkstring(l)
			addWrite(writes, l.server, sh, storage.TestWriteVectors{Test: []storage.TestVector{{Offset: 0, Size: uint64(len(cs)), Specimen: cs}}, Write: write, NewLength: &newLen})
		}
	}
	order := make([]int, 0, len(writes))
	for t := range writes {
		order = append(order, t)
	}
	sort.Ints(order)
	send := func(ctx context.Context, t int) (int, error) {
		var we [32]byte
		copy(we[:], caps.WriteEnabler(c.WriteKey, targets[t].LeaseSeed))
		req := storage.ReadTestWriteRequest{TestWriteVectors: writes[t]}
		res, err := targets[t].Storage.ReadTestWrite(ctx, si, storage.MutableSecrets{WriteEnabler: we, Lease: targets[t].Lease}, req)
		if err != nil {
			return 0, err
		}
		if !res.Success {
			return 0, ErrUncoordinated
		}
		return len(writes[t]), nil
	}
	written := map[int]bool{}
	record := func(t int) {
		for sh := range writes[t] {
			written[int(sh)] = true
		}
	}
	// The first server that takes our writes decides the race.
	for len(order) > 0 {
		t := order[0]
		order = order[1:]
		wctx, cancel := context.WithTimeout(ctx, o.transferTimeout())
		_, err := send(wctx, t)
		cancel()
		if errors.Is(err, ErrUncoordinated) {
			return err
		}
		if err == nil {
			record(t)
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	rs := fanout.Ask(ctx, len(order), fanout.Options{Timeout: o.transferTimeout()}, func(ctx context.Context, i int) (int, error) {
		return send(ctx, order[i])
	}, nil)
	if err := ctx.Err(); err != nil {
		return err
	}
	uncoordinated := false
	for i, r := range rs {
		switch {
		case errors.Is(r.Err, ErrUncoordinated):
			uncoordinated = true
		case r.Err == nil:
			record(order[i])
		}
	}
	if uncoordinated {
		return ErrUncoordinated
	}
	if len(written) < newest.Needed {
		return fmt.Errorf("only %d shares of the new version were written, %d are needed to read it", len(written), newest.Needed)
	}
	return nil
}

// settledMap maps the servers for a write. A map that holds more than one
// version, or a share that does not parse, may have caught another
// writer's update half done (its first server written, the others not
// yet, or a share mid-write): writing over that would race the other
// writer for the shares it has still to reach, and both would be told to
// retry. So the servers are asked again, after pauses that double from
// 2 ms, until the map holds one version, or has stayed the same across a
// pause long enough for a write to land (settleQuiet: a server left
// behind by an earlier write, which our write then settles), or the query
// timeout has passed.
func settledMap(ctx context.Context, si storage.StorageIndex, servers []storage.Server, o Options) (*serverMap, error) {
	deadline := time.Now().Add(o.timeout())
	var last string
	pause, lastPause := 2*time.Millisecond, time.Duration(0)
	for {
		m, err := mapServers(ctx, si, servers, o, mapWrite)
		if err != nil {
			return nil, err
		}
		fp := m.fingerprint()
		if (len(m.versions()) <= 1 && m.bad == 0) || (fp == last && lastPause >= settleQuiet) || time.Now().Add(pause).After(deadline) {
			return m, nil
		}
		if fp != last {
			pause = 2 * time.Millisecond // something moved: look again soon
		}
		last = fp
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		lastPause, pause = pause, min(2*pause, 2*settleQuiet)
	}
}

// settleQuiet is how long a mixed servermap must stay the same before a
// write takes it as settled: longer than one share write with its fsync.
const settleQuiet = 32 * time.Millisecond

func addWrite(writes map[int]map[uint64]storage.TestWriteVectors, t, sh int, tw storage.TestWriteVectors) {
	if writes[t] == nil {
		writes[t] = map[uint64]storage.TestWriteVectors{}
	}
	writes[t][uint64(sh)] = tw
}

// newestGood is the newest share that passes Verify: versions are tried
// newest first, each share of a version read whole until one passes.
func newestGood(ctx context.Context, c *caps.Cap, si storage.StorageIndex, servers []storage.Server, m *serverMap, o Options) (*Share, error) {
	for _, v := range m.versions() {
		for _, l := range v.shares {
			ss, err := fetch(ctx, si, servers, []*located{l}, o, nil)
			if err != nil {
				return nil, err
			}
			for _, s := range ss {
				if err := s.Verify(c); err != nil {
					o.bad(s.Num, judge(ctx, si, servers, l, err, o))
					continue
				}
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("no valid share of this mutable file was found on %d servers", len(servers))
}
