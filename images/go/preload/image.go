package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Label keys of containerd's CRI plugin (internal/cri/labels, not importable).
const (
	criImageLabelKey   = "io.cri-containerd.image"
	criImageLabelValue = "managed"
)

// imageResult is what the summary reports for one image.
type imageResult struct {
	Name     string             `json:"name"`
	Records  []string           `json:"records"`
	Manifest ocispec.Descriptor `json:"manifest"`
	Config   ocispec.Descriptor `json:"config"`
	Layers   []*layerBlob       `json:"layers"`
}

// buildImage writes the image's config and manifest blobs and returns the manifest descriptor.
// Layers must already be in the content store.
func buildImage(ctx context.Context, cs content.Store, im *ImageSpec, layers []*layerBlob, created time.Time) (*imageResult, error) {
	cfg := ocispec.Image{
		Created: &created,
		Platform: ocispec.Platform{
			Architecture: im.Architecture,
			OS:           im.OS,
			Variant:      im.Variant,
		},
		Config: im.Config,
		RootFS: ocispec.RootFS{Type: "layers"},
	}
	for i, l := range layers {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.DiffID)
		cfg.History = append(cfg.History, ocispec.History{
			Created:   &created,
			CreatedBy: fmt.Sprintf("kur-preload: layer %d of %d", i+1, len(layers)),
		})
	}
	cfgDesc, err := writeJSONBlob(ctx, cs, ocispec.MediaTypeImageConfig, cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", im.Name, err)
	}

	mf := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfgDesc,
	}
	for _, l := range layers {
		mf.Layers = append(mf.Layers, l.descriptor())
	}
	// The same labels containerd's pull and import put on a manifest (images.SetChildrenLabels with
	// images.ChildGCLabels): the garbage collector follows them from the image record to the
	// config and every layer.
	gcLabels := childGCLabels(append([]ocispec.Descriptor{cfgDesc}, mf.Layers...))
	mfDesc, err := writeJSONBlob(ctx, cs, ocispec.MediaTypeImageManifest, mf, gcLabels)
	if err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", im.Name, err)
	}
	return &imageResult{Name: im.Name, Manifest: mfDesc, Config: cfgDesc, Layers: layers}, nil
}

// childGCLabels mirrors images.SetChildrenMappedLabels: one label per child, keyed by
// images.ChildGCLabels, numbered when the key ends in "." or repeats.
func childGCLabels(children []ocispec.Descriptor) map[string]string {
	out := map[string]string{}
	seen := map[string]int{}
	for _, ch := range children {
		for _, key := range images.ChildGCLabels(ch) {
			idx := seen[key]
			seen[key] = idx + 1
			if idx > 0 || key[len(key)-1] == '.' {
				key = fmt.Sprintf("%s%d", key, idx)
			}
			out[key] = ch.Digest.String()
		}
	}
	return out
}

func writeJSONBlob(ctx context.Context, cs content.Store, mediaType string, v any, labels map[string]string) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	var opts []content.Opt
	if len(labels) > 0 {
		opts = append(opts, content.WithLabels(labels))
	}
	ref := "kur-preload-" + desc.Digest.Encoded()
	if err := content.WriteBlob(ctx, cs, ref, bytes.NewReader(data), desc, opts...); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// recordNames are the image records containerd's CRI plugin creates when it pulls an image
// (internal/cri/server/images PullImage): the image ID (config digest), the repo tag and the repo
// digest. kubelet and crictl find an image by any of them.
func recordNames(name string, manifest, config digest.Digest) ([]string, error) {
	named, err := reference.ParseDockerRef(name)
	if err != nil {
		return nil, err
	}
	return []string{config.String(), named.String(), named.Name() + "@" + manifest.String()}, nil
}

// createRecords creates the image records, or accepts an existing one that points at the same
// manifest (two spec entries with identical content share the ID record).
func createRecords(ctx context.Context, store images.Store, res *imageResult, labels map[string]string) error {
	names, err := recordNames(res.Name, res.Manifest.Digest, res.Config.Digest)
	if err != nil {
		return err
	}
	for _, n := range names {
		img := images.Image{Name: n, Target: res.Manifest, Labels: labels}
		if _, err := store.Create(ctx, img); err != nil {
			if !errdefs.IsAlreadyExists(err) {
				return fmt.Errorf("image %s: create record %s: %w", res.Name, n, err)
			}
			old, gerr := store.Get(ctx, n)
			if gerr != nil {
				return fmt.Errorf("image %s: record %s: %w", res.Name, n, gerr)
			}
			if old.Target.Digest != res.Manifest.Digest || !sameLabels(old.Labels, labels) {
				return fmt.Errorf("image %s: record %s already exists for another image (manifest %s)", res.Name, n, old.Target.Digest)
			}
		}
		res.Records = append(res.Records, n)
	}
	return nil
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
