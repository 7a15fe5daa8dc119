package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/plugins/content/local"
	bolt "go.etcd.io/bbolt"
)

// Directory names under containerd's root, as its plugins name them
// (<plugin type>.<plugin id>): the local content store and the bolt metadata plugin.
const (
	contentDir  = "io.containerd.content.v1.content"
	metadataDir = "io.containerd.metadata.v1.bolt"
)

type options struct {
	Root            string
	SourceDateEpoch int64
	Jobs            int
}

// Summary is printed as JSON on stdout.
type Summary struct {
	Root            string         `json:"root"`
	Namespace       string         `json:"namespace"`
	SourceDateEpoch int64          `json:"sourceDateEpoch"`
	Images          []*imageResult `json:"images"`
	Blobs           []blobInfo     `json:"blobs"`
	BlobBytes       int64          `json:"blobBytes"`
	MetaDBBytes     int64          `json:"metaDBBytes"`
}

type blobInfo struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// preload writes a containerd root directory holding the spec's images. It builds in a temporary
// directory next to opts.Root and renames it into place at the end, so a failed or interrupted run
// leaves no half-written root behind.
func preload(ctx context.Context, s *Spec, opts options) (*Summary, error) {
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	if err := checkEmptyOrMissing(root); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(root), "."+filepath.Base(root)+".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	fixed := time.Unix(opts.SourceDateEpoch, 0).UTC()
	sum, err := build(ctx, s, tmp, fixed, opts.Jobs)
	if err != nil {
		return nil, err
	}
	if err := normalizeTree(tmp, fixed); err != nil {
		return nil, err
	}
	// An empty directory given as --root is replaced; a non-empty one was refused above.
	if err := os.Remove(root); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.Rename(tmp, root); err != nil {
		return nil, err
	}
	sum.Root = root
	sum.SourceDateEpoch = opts.SourceDateEpoch
	return sum, nil
}

// readDirIfExists lists dir; a missing dir has no entries.
func readDirIfExists(dir string) ([]fs.DirEntry, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

func checkEmptyOrMissing(root string) error {
	entries, err := readDirIfExists(root)
	if err != nil {
		return fmt.Errorf("--root %s: %w", root, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("--root %s exists and is not empty; give a new or empty directory", root)
	}
	return nil
}

func build(ctx context.Context, s *Spec, dir string, fixed time.Time, jobs int) (*Summary, error) {
	cs, err := local.NewStore(filepath.Join(dir, contentDir))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, metadataDir), 0o711); err != nil {
		return nil, err
	}
	scratchPath := filepath.Join(dir, metadataDir, "meta.db.scratch")
	bdb, err := bolt.Open(scratchPath, 0o600, boltOptions())
	if err != nil {
		return nil, err
	}
	mdb := metadata.NewDB(bdb, cs, nil)
	closed := false
	defer func() {
		if !closed {
			mdb.Close()
		}
	}()
	if err := mdb.Init(ctx); err != nil {
		return nil, fmt.Errorf("init metadata DB: %w", err)
	}
	ctx = namespaces.WithNamespace(ctx, s.Namespace)
	mcs := mdb.ContentStore()

	// Distinct layer files in first-use order; each is compressed once.
	var files []string
	keyOf := map[string]string{}
	for _, im := range s.Images {
		for _, l := range im.Layers {
			if _, ok := keyOf[l]; ok {
				continue
			}
			k, err := layerKey(l)
			if err != nil {
				return nil, fmt.Errorf("image %s: layer %s: %w", im.Name, l, err)
			}
			keyOf[l] = k
			if !slices.Contains(files, k) {
				files = append(files, k)
			}
		}
	}
	if jobs < 1 {
		jobs = 1
	}
	blobs, err := writeLayers(ctx, mcs, files, jobs)
	if err != nil {
		return nil, err
	}

	sum := &Summary{Namespace: s.Namespace}
	store := metadata.NewImageStore(mdb)
	for i := range s.Images {
		im := &s.Images[i]
		var layers []*layerBlob
		for _, l := range im.Layers {
			layers = append(layers, blobs[keyOf[l]])
		}
		res, err := buildImage(ctx, mcs, im, layers, fixed)
		if err != nil {
			return nil, err
		}
		labels := map[string]string{}
		for k, v := range s.Labels {
			labels[k] = v
		}
		for k, v := range im.Labels {
			labels[k] = v
		}
		// Without it the CRI plugin re-labels the records itself when it starts.
		labels[criImageLabelKey] = criImageLabelValue
		if err := createRecords(ctx, store, res, labels); err != nil {
			return nil, err
		}
		sum.Images = append(sum.Images, res)
	}

	if err := mcs.Walk(ctx, func(info content.Info) error {
		sum.Blobs = append(sum.Blobs, blobInfo{Digest: info.Digest.String(), Size: info.Size})
		sum.BlobBytes += info.Size
		return nil
	}); err != nil {
		return nil, err
	}
	sort.Slice(sum.Blobs, func(i, j int) bool { return sum.Blobs[i].Digest < sum.Blobs[j].Digest })

	closed = true
	if err := mdb.Close(); err != nil {
		return nil, err
	}
	finalPath := filepath.Join(dir, metadataDir, "meta.db")
	if err := canonicalDB(finalPath, scratchPath, fixed); err != nil {
		return nil, err
	}
	if err := os.Remove(scratchPath); err != nil {
		return nil, err
	}
	if err := checkIngestsEmpty(filepath.Join(dir, contentDir, "ingest")); err != nil {
		return nil, err
	}
	fi, err := os.Stat(finalPath)
	if err != nil {
		return nil, err
	}
	sum.MetaDBBytes = fi.Size()
	return sum, nil
}

func checkIngestsEmpty(dir string) error {
	entries, err := readDirIfExists(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("content store ingest directory %s is not empty (%s): an upload was not committed", dir, entries[0].Name())
	}
	return nil
}
