package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Spec is the input file: which images to preload and how to label them.
type Spec struct {
	// Namespace is the containerd namespace; the CRI plugin reads k8s.io.
	Namespace string      `json:"namespace"`
	Images    []ImageSpec `json:"images"`
	// Labels go on every image record (e.g. io.cri-containerd.pinned=pinned).
	Labels map[string]string `json:"labels"`
}

// ImageSpec describes one image: its name, its layers (uncompressed tar files, base first) and its
// runtime config.
type ImageSpec struct {
	Name         string              `json:"name"`
	Layers       []string            `json:"layers"`
	Config       ocispec.ImageConfig `json:"config"`
	Architecture string              `json:"architecture"`
	OS           string              `json:"os"`
	Variant      string              `json:"variant"`
	// Labels are extra labels for this image's records only.
	Labels map[string]string `json:"labels"`
}

const defaultNamespace = "k8s.io"

// loadSpec reads and validates a spec file. Relative layer paths are taken relative to the spec
// file's directory, so a spec can travel with its layers.
func loadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("spec %s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("spec %s: trailing data after the JSON object", path)
	}
	base := filepath.Dir(path)
	for i := range s.Images {
		for j, l := range s.Images[i].Layers {
			if l != "" && !filepath.IsAbs(l) {
				s.Images[i].Layers[j] = filepath.Join(base, l)
			}
		}
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("spec %s: %w", path, err)
	}
	return &s, nil
}

// validate applies defaults and checks everything that can be checked without reading layers.
// Image names are normalised the way the CRI plugin does (docker.io/library/..., :latest).
func (s *Spec) validate() error {
	if s.Namespace == "" {
		s.Namespace = defaultNamespace
	}
	if strings.ContainsAny(s.Namespace, "/ ") || s.Namespace == "version" {
		return fmt.Errorf("namespace %q is not a valid containerd namespace", s.Namespace)
	}
	if len(s.Images) == 0 {
		return fmt.Errorf("images: at least one image is required")
	}
	if err := validateLabels("labels", s.Labels); err != nil {
		return err
	}
	seen := map[string]int{}
	for i := range s.Images {
		im := &s.Images[i]
		where := fmt.Sprintf("images[%d] (%s)", i, im.Name)
		if im.Name == "" {
			return fmt.Errorf("images[%d]: name is required", i)
		}
		named, err := reference.ParseDockerRef(im.Name)
		if err != nil {
			return fmt.Errorf("%s: invalid image name: %w", where, err)
		}
		if _, ok := named.(reference.Canonical); ok {
			return fmt.Errorf("%s: name must be a tag, not a digest (the digest is computed from the layers)", where)
		}
		im.Name = named.String()
		if j, dup := seen[im.Name]; dup {
			return fmt.Errorf("%s: same name as images[%d]", where, j)
		}
		seen[im.Name] = i
		if len(im.Layers) == 0 {
			return fmt.Errorf("%s: layers: at least one layer is required", where)
		}
		for j, l := range im.Layers {
			if l == "" {
				return fmt.Errorf("%s: layers[%d] is empty", where, j)
			}
		}
		if im.OS == "" {
			im.OS = "linux"
		}
		if im.Architecture == "" {
			return fmt.Errorf("%s: architecture is required (e.g. amd64); it is not taken from the build host so output does not depend on it", where)
		}
		if err := validateLabels(where+": labels", im.Labels); err != nil {
			return err
		}
	}
	return nil
}

func validateLabels(where string, labels map[string]string) error {
	for k, v := range labels {
		// containerd rejects labels whose key+value exceed 4096 bytes.
		if k == "" || len(k)+len(v) > 4096 {
			return fmt.Errorf("%s: invalid label %q (empty key, or key+value over 4096 bytes)", where, k)
		}
	}
	return nil
}
