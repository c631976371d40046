package mutable

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"sync"
	"testing"

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
// the winner's data. (Both may be told to retry, as in Tahoe, when one's
// servermap read met the other's write half done; then neither update was
// reported as made.)
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
	for round := 0; round < 5; round++ {
		datas := [][]byte{[]byte("writer A, round " + string(rune('0'+round))), []byte("writer B, round " + string(rune('0'+round)))}
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
			// Both were told to retry: a reader that met the other's write
			// half done saw a share it could not use. No update was
			// reported as made, so none is lost; the file holds one whole
			// version (an earlier one, or either writer's).
			if !errors.Is(errs[0], ErrUncoordinated) || !errors.Is(errs[1], ErrUncoordinated) {
				t.Fatalf("round %d: %v / %v, want ErrUncoordinated", round, errs[0], errs[1])
			}
			if !bytes.Equal(out.Bytes(), datas[0]) && !bytes.Equal(out.Bytes(), datas[1]) && !bytes.HasPrefix(out.Bytes(), []byte("start")) && !bytes.HasPrefix(out.Bytes(), []byte("writer ")) {
				t.Fatalf("round %d: both failed and the contents are %q", round, out.Bytes())
			}
		}
	}
}
