package mutable

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lafs/lafs/pkg/storage"
	"github.com/lafs/lafs/pkg/storage/shares"
)

func localTargets(t *testing.T, n int) ([]Target, []storage.Server) {
	var targets []Target
	var plain []storage.Server
	for i := 0; i < n; i++ {
		l, err := shares.OpenDisk(t.TempDir(), shares.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		targets = append(targets, Target{Storage: l, LeaseSeed: bytes.Repeat([]byte{byte(i + 1)}, 20)})
		plain = append(plain, l)
	}
	return targets, plain
}

func TestOverwriteInPlace(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	targets, plain := localTargets(t, 5)
	for _, format := range []int{VersionSDMF, VersionMDMF} {
		if format == VersionMDMF {
			key, _ = rsa.GenerateKey(rand.Reader, 2048)
		}
		b, err := Build(key, []byte("version one"), Params{Needed: 2, Total: 4, Format: format, MaxSegmentSize: 1000, Seqnum: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := Create(context.Background(), b, targets, Options{}); err != nil {
			t.Fatal(err)
		}
		for i, data := range [][]byte{sha256ctr("two", 5000), {}, []byte("x"), sha256ctr("four", 2500)} {
			if err := Overwrite(context.Background(), b.Cap, data, targets, Options{}); err != nil {
				t.Fatalf("format %d, version %d: %v", format, i+2, err)
			}
			var out bytes.Buffer
			if err := Retrieve(context.Background(), b.Cap.ReadOnly(), plain, &out, nil); err != nil || !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("format %d, version %d: read back %d bytes, %v", format, i+2, out.Len(), err)
			}
		}
		if err := Overwrite(context.Background(), b.Cap.ReadOnly(), []byte("no"), targets, Options{}); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("write through a read cap: %v", err)
		}
	}
}

// TestRacingWritersLoseNoUpdate: of two writers that read the same version,
// at most one succeeds; the other gets ErrUncoordinated, and the file holds
// the winner's data. A writer whose servermap meets the other's update half
// done waits for it to settle rather than racing it, so both are never told
// to retry, and no update reported as made is lost.
func TestRacingWritersLoseNoUpdate(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	targets, plain := localTargets(t, 4)
	b, err := Build(key, []byte("start"), Params{Needed: 2, Total: 4, Format: VersionSDMF, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := Create(context.Background(), b, targets, Options{}); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 20; round++ {
		datas := [][]byte{[]byte(fmt.Sprintf("writer A, round %d", round)), []byte(fmt.Sprintf("writer B, round %d", round))}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range datas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = Overwrite(context.Background(), b.Cap, datas[i], targets, Options{})
			}()
		}
		close(start)
		wg.Wait()
		var out bytes.Buffer
		if err := Retrieve(context.Background(), b.Cap, plain, &out, nil); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		switch {
		case errs[0] == nil && errs[1] == nil:
			// Both saw no conflict: they ran one after the other, and the
			// later one wrote last.
			if !bytes.Equal(out.Bytes(), datas[0]) && !bytes.Equal(out.Bytes(), datas[1]) {
				t.Fatalf("round %d: mixed contents %q", round, out.Bytes())
			}
		case errs[0] == nil:
			if !errors.Is(errs[1], ErrUncoordinated) || !bytes.Equal(out.Bytes(), datas[0]) {
				t.Fatalf("round %d: B %v, contents %q", round, errs[1], out.Bytes())
			}
		case errs[1] == nil:
			if !errors.Is(errs[0], ErrUncoordinated) || !bytes.Equal(out.Bytes(), datas[1]) {
				t.Fatalf("round %d: A %v, contents %q", round, errs[0], out.Bytes())
			}
		default:
			t.Fatalf("round %d: both writers failed: %v / %v (contents %q)", round, errs[0], errs[1], out.Bytes())
		}
	}
}

// TestOverwriteOverStaleShare: a share left behind by an earlier write (its
// server missed it) makes the servermap mixed for good; the write waits
// only briefly for it to settle, then overwrites it, which settles it.
func TestOverwriteOverStaleShare(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	targets, plain := localTargets(t, 4)
	b, err := Build(key, []byte("one"), Params{Needed: 2, Total: 4, Format: VersionMDMF, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := Create(context.Background(), b, targets, Options{}); err != nil {
		t.Fatal(err)
	}
	// Server 3 misses version two.
	if err := Overwrite(context.Background(), b.Cap, []byte("two"), targets[:3], Options{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := Overwrite(context.Background(), b.Cap, []byte("three"), targets, Options{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the write over a stale share took %v", d)
	}
	var si storage.StorageIndex
	copy(si[:], b.Cap.StorageIndex)
	m, err := mapServers(context.Background(), si, plain, Options{}, mapWrite)
	if err != nil {
		t.Fatal(err)
	}
	if vs := m.versions(); len(vs) != 1 || vs[0].distinctNums() != 4 || vs[0].seqnum != 3 {
		t.Fatalf("after the write: %d versions", len(vs))
	}
}

// TestReadersDuringOverwrite: readers racing a writer that replaces a
// multi-segment file in place meet shares half rewritten (torn reads) and
// servermaps that mix versions. Every read that succeeds returns one whole
// version; none advises a share corrupt or reports one as corrupt.
func TestReadersDuringOverwrite(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	targets, plain, ws := watchedTargets(t, 4)
	var versions [][]byte
	for i := 0; i < 12; i++ {
		versions = append(versions, sha256ctr(fmt.Sprintf("version %d", i), 300_000))
	}
	b, err := Build(key, versions[0], Params{Needed: 2, Total: 4, Format: VersionMDMF, MaxSegmentSize: 32 << 10, Seqnum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := Create(context.Background(), b, targets, Options{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var werr error
	go func() {
		defer close(done)
		for _, v := range versions[1:] {
			if werr = Overwrite(context.Background(), b.Cap, v, targets, Options{}); werr != nil {
				return
			}
		}
	}()
	var mu sync.Mutex
	var reads, failed, torn int
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var out bytes.Buffer
				err := Retrieve(context.Background(), b.Cap.ReadOnly(), plain, &out, func(n int, err error) {
					mu.Lock()
					defer mu.Unlock()
					if errors.Is(err, ErrTorn) {
						torn++
					} else if errors.Is(err, ErrCorrupt) {
						t.Errorf("share %d reported corrupt during a write: %v", n, err)
					}
				})
				mu.Lock()
				reads++
				switch {
				case err != nil:
					failed++
				case !slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, out.Bytes()) }):
					t.Errorf("read %d bytes that are no version written", out.Len())
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
	for i, w := range ws {
		if len(w.advised) > 0 {
			t.Errorf("server %d was advised of corrupt shares %v", i, w.advised)
		}
	}
	t.Logf("%d reads during the writes, %d failed, %d torn shares met", reads, failed, torn)
}
