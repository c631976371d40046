package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lafs/lafs/pkg/caps"
	"github.com/lafs/lafs/pkg/client/dirnode"
	"github.com/lafs/lafs/pkg/client/mutable"
	"github.com/lafs/lafs/pkg/filestore"
)

// Mkdir creates a new, empty mutable directory (SDMF, or MDMF when mdmf)
// and returns its write cap.
func (c *Client) Mkdir(ctx context.Context, mdmf bool) (*caps.Cap, error) {
	format := mutable.VersionSDMF
	if mdmf {
		format = mutable.VersionMDMF
	}
	f, err := c.CreateMutable(ctx, nil, format, nil)
	if err != nil {
		return nil, err
	}
	return caps.DirectoryOf(f)
}

// MkdirWith creates a mutable directory that already holds the given
// children, in one publish (cheaper than linking them one by one).
func (c *Client) MkdirWith(ctx context.Context, children []dirnode.Entry, mdmf bool) (*caps.Cap, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating an RSA key: %w", err)
	}
	keys, err := caps.DeriveMutableKeys(key)
	if err != nil {
		return nil, err
	}
	for i := range children {
		if children[i].Metadata == nil {
			children[i].Metadata = dirnode.NewMetadata(time.Now())
		}
	}
	data, err := dirnode.Pack(children, keys.WriteKey)
	if err != nil {
		return nil, err
	}
	format := mutable.VersionSDMF
	if mdmf {
		format = mutable.VersionMDMF
	}
	f, err := c.CreateMutable(ctx, data, format, key)
	if err != nil {
		return nil, err
	}
	return caps.DirectoryOf(f)
}

// EntryFor makes a directory entry for a child cap.
func EntryFor(name string, child *caps.Cap) dirnode.Entry {
	e := dirnode.Entry{Name: dirnode.Normalize(name), Metadata: dirnode.NewMetadata(time.Now())}
	if child.IsUnknown() {
		e.ROCap = child.String()
		return e
	}
	if !child.IsReadOnly() {
		e.RWCap = child.String()
	}
	if ro := child.ReadOnly(); ro != nil {
		e.ROCap = ro.String()
	}
	return e
}

// ReadDir returns a directory's children. With a write cap the children's
// write caps are included.
func (c *Client) ReadDir(ctx context.Context, dir *caps.Cap) ([]dirnode.Entry, error) {
	if !dir.IsDirectory() {
		return nil, fmt.Errorf("a %s cap: %w", dir.Kind, filestore.ErrNotDirectory)
	}
	file, err := caps.FileOf(dir)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := c.Download(ctx, file, &buf, nil); err != nil {
		return nil, fmt.Errorf("reading directory: %w", err)
	}
	return dirnode.Parse(buf.Bytes(), dir.WriteKey)
}

// ErrNotFound means a path names no child.
var ErrNotFound = filestore.ErrNotFound

// ErrExists means a child of that name already exists.
var ErrExists = filestore.ErrExists

// modifyDir applies change to a writable directory's children and writes
// the result, retrying when another writer got there first.
func (c *Client) modifyDir(ctx context.Context, dir *caps.Cap, change func([]dirnode.Entry) ([]dirnode.Entry, error)) error {
	if dir.IsReadOnly() {
		return fmt.Errorf("%s is a read-only directory cap: %w", dir.Kind, mutable.ErrReadOnly)
	}
	if !dir.IsMutable() {
		return fmt.Errorf("a %s directory is immutable: %w", dir.Kind, filestore.ErrReadOnly)
	}
	file, err := caps.FileOf(dir)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		entries, err := c.ReadDir(ctx, dir)
		if err != nil {
			return err
		}
		entries, err = change(entries)
		if err != nil {
			return err
		}
		data, err := dirnode.Pack(entries, dir.WriteKey)
		if err != nil {
			return err
		}
		err = c.OverwriteMutable(ctx, file, data)
		if !errors.Is(err, mutable.ErrUncoordinated) || attempt >= 4 {
			return err
		}
		t := time.NewTimer(time.Duration(attempt+1) * 20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("retrying a directory update: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Link adds (or, with replace, replaces) child name in dir.
func (c *Client) Link(ctx context.Context, dir *caps.Cap, name string, child *caps.Cap, replace bool) error {
	name = dirnode.Normalize(name)
	if err := dirnode.CheckName(name); err != nil {
		return err
	}
	e := EntryFor(name, child)
	return c.modifyDir(ctx, dir, func(es []dirnode.Entry) ([]dirnode.Entry, error) {
		for i := range es {
			if es[i].Name == name {
				if !replace {
					return nil, fmt.Errorf("%q: %w", name, ErrExists)
				}
				e.Metadata = updateMetadata(es[i].Metadata, time.Now())
				es[i] = e
				return es, nil
			}
		}
		return append(es, e), nil
	})
}

// member is one key of a JSON object, its value verbatim.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers returns the members of a JSON object in their order.
func objectMembers(b []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, member{k, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	return out, true
}

// set replaces key's value, or appends it.
func set(ms []member, key string, v json.RawMessage) []member {
	for i := range ms {
		if ms[i].key == key {
			ms[i].value = v
			return ms
		}
	}
	return append(ms, member{key, v})
}

func get(ms []member, key string) (json.RawMessage, bool) {
	for _, m := range ms {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

// encodeMembers writes an object as Python's json.dumps does (", " and
// ": " separators), values verbatim.
func encodeMembers(ms []member) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteString(": ")
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// updateMetadata is the metadata of a link replaced at now, by Tahoe's
// rule (dirnode.update_metadata with no new metadata): every key is kept;
// tahoe.linkcrtime is kept, or taken from an old-style "ctime", or set to
// now; tahoe.linkmotime is set to now. Metadata that is not a JSON object
// is replaced.
func updateMetadata(old json.RawMessage, now time.Time) json.RawMessage {
	t := json.RawMessage(strconv.FormatFloat(float64(now.UnixNano())/1e9, 'f', -1, 64))
	md, ok := objectMembers(old)
	if !ok {
		md = nil
	}
	var sys []member
	if raw, ok := get(md, "tahoe"); ok {
		if sys, ok = objectMembers(raw); !ok {
			sys = nil
		}
	}
	if _, ok := get(sys, "linkcrtime"); !ok {
		if ctime, ok := get(md, "ctime"); ok {
			sys = set(sys, "linkcrtime", ctime)
		} else {
			sys = set(sys, "linkcrtime", t)
		}
	}
	sys = set(sys, "linkmotime", t)
	return encodeMembers(set(md, "tahoe", encodeMembers(sys)))
}

// Unlink removes child name from dir.
func (c *Client) Unlink(ctx context.Context, dir *caps.Cap, name string) error {
	name = dirnode.Normalize(name)
	return c.modifyDir(ctx, dir, func(es []dirnode.Entry) ([]dirnode.Entry, error) {
		for i := range es {
			if es[i].Name == name {
				return append(es[:i], es[i+1:]...), nil
			}
		}
		return nil, fmt.Errorf("%q: %w", name, ErrNotFound)
	})
}

// Resolve walks a slash-separated path from a directory cap and returns
// the cap it names (the root itself for an empty path).
func (c *Client) Resolve(ctx context.Context, root *caps.Cap, path string) (*caps.Cap, error) {
	cur := root
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if part == "" {
			continue
		}
		part = dirnode.Normalize(part)
		if !cur.IsDirectory() {
			return nil, fmt.Errorf("%q: %w", part, filestore.ErrNotDirectory)
		}
		entries, err := c.ReadDir(ctx, cur)
		if err != nil {
			return nil, err
		}
		var next *caps.Cap
		for _, e := range entries {
			if e.Name == part {
				if next, err = caps.Parse(e.Cap()); err != nil {
					return nil, fmt.Errorf("%q: %w", part, err)
				}
			}
		}
		if next == nil {
			return nil, fmt.Errorf("%q: %w", part, ErrNotFound)
		}
		cur = next
	}
	return cur, nil
}

// MkdirImmutable creates an immutable directory (DIR2-CHK, or DIR2-LIT
// when small) holding children, which must all be deeply immutable: no
// write caps and no mutable read caps.
func (c *Client) MkdirImmutable(ctx context.Context, children []dirnode.Entry) (*caps.Cap, error) {
	for i, e := range children {
		if e.RWCap != "" {
			return nil, fmt.Errorf("child %q: an immutable directory cannot hold a write cap", e.Name)
		}
		if _, err := caps.ParseDeepImmutable(e.ROCap); err != nil {
			return nil, fmt.Errorf("child %q: %w", e.Name, err)
		}
		if children[i].Metadata == nil {
			children[i].Metadata = dirnode.NewMetadata(time.Now())
		}
	}
	data, err := dirnode.Pack(children, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.Upload(ctx, bytes.NewReader(data), uint64(len(data)), nil)
	if err != nil {
		return nil, err
	}
	return caps.DirectoryOf(res.Cap)
}
