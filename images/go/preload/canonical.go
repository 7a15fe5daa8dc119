package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltOptions are used for both the scratch DB and the final one. The page size is fixed so the
// file does not depend on the build host's page size; NoFreelistSync is what containerd's metadata
// plugin opens meta.db with, so containerd finds the file in the form it writes itself; the array
// freelist hands out pages first-fit in id order (the hashmap one does not promise an order).
// Durability is not needed: a failed run is discarded whole.
func boltOptions() *bolt.Options {
	return &bolt.Options{PageSize: 4096, NoFreelistSync: true, FreelistType: bolt.FreelistArrayType, NoSync: true, NoGrowSync: true}
}

// canonicalDB copies src into a new file at dstPath in key order, with every createdat/updatedat
// set to fixed. containerd's metadata package stamps time.Now() into those fields, and bbolt's page
// layout depends on the history of writes; a fresh file filled in key order depends only on the
// data. The copy also checks that the DB holds only what a preload should: image records and
// content blobs, no leases, ingests or containers.
//
// One transaction per bucket, not bbolt.Compact's single one: when a transaction commits, bbolt
// writes the dirty child buckets of a bucket in Go map order (Bucket.spill ranges over a map), so
// two identical single-transaction copies get their pages numbered differently. A transaction that
// touches one chain of buckets has one child per map and a fixed allocation order.
func canonicalDB(dstPath, srcPath string, fixed time.Time) error {
	ts, err := fixed.UTC().MarshalBinary()
	if err != nil {
		return err
	}
	src, err := bolt.Open(srcPath, 0o600, &bolt.Options{ReadOnly: true, PageSize: 4096})
	if err != nil {
		return fmt.Errorf("open scratch DB: %w", err)
	}
	var buckets []bucketCopy
	err = src.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if string(name) != "v1" {
				return fmt.Errorf("unexpected top-level bucket %q in metadata DB", name)
			}
			return collectBucket(&buckets, b, []string{string(name)}, ts)
		})
	})
	if cerr := src.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	dst, err := bolt.Open(dstPath, 0o644, boltOptions())
	if err != nil {
		return fmt.Errorf("create %s: %w", dstPath, err)
	}
	for _, bc := range buckets {
		if err = dst.Update(bc.create); err != nil {
			break
		}
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

// bucketCopy is one bucket of the source DB: where it sits, its sequence and its plain values.
type bucketCopy struct {
	path [][]byte
	seq  uint64
	kvs  [][2][]byte
}

func (bc bucketCopy) create(tx *bolt.Tx) error {
	last := len(bc.path) - 1
	var b *bolt.Bucket
	var err error
	if last == 0 {
		b, err = tx.CreateBucket(bc.path[0])
	} else {
		parent := tx.Bucket(bc.path[0])
		parent.FillPercent = 1.0
		for _, k := range bc.path[1:last] {
			parent = parent.Bucket(k)
			parent.FillPercent = 1.0
		}
		b, err = parent.CreateBucket(bc.path[last])
	}
	if err != nil {
		return err
	}
	if err := b.SetSequence(bc.seq); err != nil {
		return err
	}
	// Keys arrive in order, so full pages are the compact layout.
	b.FillPercent = 1.0
	for _, kv := range bc.kvs {
		if err := b.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// collectBucket appends b and then its sub-buckets, depth first in key order.
func collectBucket(out *[]bucketCopy, b *bolt.Bucket, path []string, ts []byte) error {
	bc := bucketCopy{seq: b.Sequence()}
	for _, p := range path {
		bc.path = append(bc.path, []byte(p))
	}
	var children []string
	err := b.ForEach(func(k, v []byte) error {
		if v == nil {
			children = append(children, string(k))
			return nil
		}
		val, err := canonicalValue(path, string(k), v, ts)
		if err != nil {
			return err
		}
		bc.kvs = append(bc.kvs, [2][]byte{bytes.Clone(k), val})
		return nil
	})
	if err != nil {
		return err
	}
	*out = append(*out, bc)
	for _, name := range children {
		cpath := append(append([]string{}, path...), name)
		child := b.Bucket([]byte(name))
		if err := checkBucket(cpath, child); err != nil {
			return err
		}
		if err := collectBucket(out, child, cpath, ts); err != nil {
			return err
		}
	}
	return nil
}

// checkBucket rejects state a preload must not carry into a node image.
func checkBucket(path []string, b *bolt.Bucket) error {
	p := strings.Join(path, "/")
	if len(path) == 3 {
		switch path[2] {
		case "images", "content", "labels":
		default:
			return fmt.Errorf("unexpected bucket %s in metadata DB (leftover lease, container or snapshot?)", p)
		}
	}
	if len(path) == 4 && path[2] == "content" {
		switch path[3] {
		case "blob":
		case "ingests":
			if k, _ := b.Cursor().First(); k != nil {
				return fmt.Errorf("unfinished ingest %q left in metadata DB", k)
			}
		default:
			return fmt.Errorf("unexpected bucket %s in metadata DB", p)
		}
	}
	return nil
}

// canonicalValue returns the value to store: the fixed time for an image's or blob's timestamps,
// the value unchanged otherwise.
func canonicalValue(path []string, key string, v, ts []byte) ([]byte, error) {
	switch key {
	case "createdat", "updatedat":
		image := len(path) == 4 && path[2] == "images"
		blob := len(path) == 5 && path[2] == "content" && path[3] == "blob"
		if image || blob {
			return ts, nil
		}
		if path[len(path)-1] != "labels" {
			return nil, fmt.Errorf("timestamp %s in unexpected place %s", key, strings.Join(path, "/"))
		}
	case "expireat":
		if path[len(path)-1] != "labels" {
			return nil, fmt.Errorf("expiring object left in metadata DB at %s", strings.Join(path, "/"))
		}
	}
	return bytes.Clone(v), nil
}

// normalizeTree gives every file and directory under root a fixed mtime and a mode that does not
// depend on the umask: what containerd itself would create (blobs read-only, meta.db 0644,
// directories 0755, the metadata plugin directory 0711).
func normalizeTree(root string, fixed time.Time) error {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return fmt.Errorf("unexpected non-regular file %s", p)
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	// Deepest first, so setting a directory's mtime comes after its entries are final.
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o444)
		switch {
		case fi.IsDir() && filepath.Base(p) == metadataDir:
			mode = 0o711
		case fi.IsDir():
			mode = 0o755
		case filepath.Base(p) == "meta.db":
			mode = 0o644
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
		if err := os.Chtimes(p, fixed, fixed); err != nil {
			return err
		}
	}
	return nil
}
