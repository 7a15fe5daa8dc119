package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/metadata"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/log"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"
)

// writeTar writes a small tar with the given files (name -> content) and returns its path.
func writeTar(t *testing.T, dir, name string, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range slices.Sorted(maps.Keys(files)) {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o755, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testSpec: two images sharing a base layer, the second also naming the base through a symlink.
func testSpec(t *testing.T) (*Spec, string) {
	t.Helper()
	dir := t.TempDir()
	base := writeTar(t, dir, "base.tar", map[string]string{"bin/sh": strings.Repeat("shell ", 5000)})
	app := writeTar(t, dir, "app.tar", map[string]string{"usr/local/bin/app": strings.Repeat("app binary ", 20000)})
	other := writeTar(t, dir, "other.tar", map[string]string{"usr/local/bin/other": "other"})
	if err := os.Symlink(base, filepath.Join(dir, "base-link.tar")); err != nil {
		t.Fatal(err)
	}
	s := &Spec{
		Images: []ImageSpec{
			{Name: "registry.k8s.io/app:v1", Layers: []string{base, app}, Architecture: "amd64",
				Config: ocispec.ImageConfig{Entrypoint: []string{"/usr/local/bin/app"}, Env: []string{"A=1"},
					Labels: map[string]string{"b": "2", "a": "1"}, ExposedPorts: map[string]struct{}{"80/tcp": {}}}},
			{Name: "other", Layers: []string{filepath.Join(dir, "base-link.tar"), other}, Architecture: "amd64"},
		},
		Labels: map[string]string{"io.cri-containerd.pinned": "pinned"},
	}
	if err := s.validate(); err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func runPreload(t *testing.T, s *Spec, root string, epoch int64, jobs int) *Summary {
	t.Helper()
	// preload normalises names in place; give each run its own copy.
	var c Spec
	b, _ := json.Marshal(s)
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	sum, err := preload(context.Background(), &c, options{Root: root, SourceDateEpoch: epoch, Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

type fileState struct {
	mode  fs.FileMode
	mtime int64
	sum   [32]byte
}

func treeState(t *testing.T, root string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		st := fileState{mode: fi.Mode(), mtime: fi.ModTime().UnixNano()}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			st.sum = sha256.Sum256(data)
		}
		out[rel] = st
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReproducible(t *testing.T) {
	s, _ := testSpec(t)
	out := t.TempDir()
	// Several runs with different parallelism: bbolt's commit order once varied from run to run
	// (Go map iteration), so one comparison is not enough to trust.
	a := runPreload(t, s, filepath.Join(out, "a"), 0, 1)
	sa := treeState(t, filepath.Join(out, "a"))
	for i, jobs := range []int{4, 2, 1, 3} {
		dir := filepath.Join(out, fmt.Sprintf("b%d", i))
		b := runPreload(t, s, dir, 0, jobs)
		sb := treeState(t, dir)
		if len(sa) != len(sb) {
			t.Fatalf("different file sets: %d vs %d", len(sa), len(sb))
		}
		for p, st := range sa {
			if sb[p] != st {
				t.Errorf("run %d: %s differs: %+v vs %+v", i, p, st, sb[p])
			}
		}
		if a.Images[0].Manifest.Digest != b.Images[0].Manifest.Digest {
			t.Errorf("manifest digests differ")
		}
	}
	// Every file carries the fixed time.
	for p, st := range sa {
		if st.mtime != 0 {
			t.Errorf("%s: mtime %d, want 0", p, st.mtime)
		}
	}
	// Another epoch changes the config (its created date) and the DB, nothing else.
	c := runPreload(t, s, filepath.Join(out, "c"), 1700000000, 2)
	if c.Images[0].Config.Digest == a.Images[0].Config.Digest {
		t.Errorf("config digest does not depend on the source date epoch")
	}
	if c.Images[0].Layers[1].Digest != a.Images[0].Layers[1].Digest {
		t.Errorf("layer blob depends on the source date epoch")
	}
}

// openRoot opens a copy of an output root with containerd's own packages.
func openRoot(t *testing.T, root string) (*metadata.DB, content.Store) {
	t.Helper()
	cs, err := local.NewStore(filepath.Join(root, contentDir))
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(filepath.Join(root, metadataDir, "meta.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	mdb := metadata.NewDB(bdb, cs, nil)
	t.Cleanup(func() { mdb.Close() })
	if err := mdb.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return mdb, mdb.ContentStore()
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// preloadAndOpen runs the test spec and opens a copy of the output with containerd's packages
// (a copy, because opening migrates and GC deletes).
func preloadAndOpen(t *testing.T) (sum *Summary, layerDir, work string, mdb *metadata.DB, cs content.Store, ctx context.Context) {
	t.Helper()
	s, layerDir := testSpec(t)
	root := filepath.Join(t.TempDir(), "root")
	sum = runPreload(t, s, root, 0, 2)
	work = t.TempDir()
	copyTree(t, root, work)
	mdb, cs = openRoot(t, work)
	return sum, layerDir, work, mdb, cs, namespaces.WithNamespace(context.Background(), "k8s.io")
}

func TestContents(t *testing.T) {
	sum, dir, _, mdb, cs, ctx := preloadAndOpen(t)

	// Blobs: base shared by both images (3 layers), 2 configs, 2 manifests.
	if len(sum.Blobs) != 7 {
		t.Fatalf("want 7 blobs, got %d: %+v", len(sum.Blobs), sum.Blobs)
	}
	if sum.Images[0].Layers[0].Digest != sum.Images[1].Layers[0].Digest {
		t.Errorf("shared base layer stored twice")
	}

	imgs, err := metadata.NewImageStore(mdb).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]images.Image{}
	for _, im := range imgs {
		byName[im.Name] = im
	}
	if len(imgs) != 6 {
		t.Fatalf("want 6 records (id, tag, digest per image), got %d", len(imgs))
	}
	for _, res := range sum.Images {
		want := []string{res.Config.Digest.String(), res.Name, strings.SplitN(res.Name, ":", 2)[0] + "@" + res.Manifest.Digest.String()}
		if res.Name == "docker.io/library/other:latest" {
			want[2] = "docker.io/library/other@" + res.Manifest.Digest.String()
		}
		for _, n := range want {
			im, ok := byName[n]
			if !ok {
				t.Errorf("record %s missing", n)
				continue
			}
			if im.Target.Digest != res.Manifest.Digest || im.Target.MediaType != ocispec.MediaTypeImageManifest {
				t.Errorf("record %s: target %+v", n, im.Target)
			}
			if im.Labels["io.cri-containerd.pinned"] != "pinned" || im.Labels["io.cri-containerd.image"] != "managed" {
				t.Errorf("record %s: labels %v", n, im.Labels)
			}
			if !im.CreatedAt.Equal(time.Unix(0, 0)) || !im.UpdatedAt.Equal(time.Unix(0, 0)) {
				t.Errorf("record %s: timestamps %v %v", n, im.CreatedAt, im.UpdatedAt)
			}
		}
	}

	// The manifest's GC labels name the config and every layer, as containerd's import does.
	res := sum.Images[0]
	info, err := cs.Info(ctx, res.Manifest.Digest)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		"containerd.io/gc.ref.content.config": res.Config.Digest.String(),
		"containerd.io/gc.ref.content.l.0":    res.Layers[0].Digest.String(),
		"containerd.io/gc.ref.content.l.1":    res.Layers[1].Digest.String(),
	}
	if !sameLabels(info.Labels, wantLabels) {
		t.Errorf("manifest labels %v, want %v", info.Labels, wantLabels)
	}
	if !info.CreatedAt.Equal(time.Unix(0, 0)) {
		t.Errorf("blob createdat %v", info.CreatedAt)
	}

	// The config's diff_ids are the sha256 of the tar files; containerd resolves the image.
	img := images.Image{Name: res.Name, Target: res.Manifest}
	cfgDesc, err := img.Config(ctx, cs, platformAMD64{})
	if err != nil {
		t.Fatal(err)
	}
	diffIDs, err := img.RootFS(ctx, cs, platformAMD64{})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"base.tar", "app.tar"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if diffIDs[i] != digest.FromBytes(data) {
			t.Errorf("diff_id %d = %s, want sha256 of %s", i, diffIDs[i], name)
		}
		li, err := cs.Info(ctx, res.Layers[i].Digest)
		if err != nil {
			t.Fatal(err)
		}
		if li.Labels["containerd.io/uncompressed"] != diffIDs[i].String() {
			t.Errorf("layer %d: uncompressed label %v", i, li.Labels)
		}
		// The blob is gzip of exactly the tar file.
		blob, err := content.ReadBlob(ctx, cs, res.Layers[i].descriptor())
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		var plain bytes.Buffer
		if _, err := plain.ReadFrom(zr); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain.Bytes(), data) || zr.Header.Name != "" || !zr.Header.ModTime.IsZero() {
			t.Errorf("layer %d blob is not a plain gzip of %s (header %+v)", i, name, zr.Header)
		}
	}
	raw, err := content.ReadBlob(ctx, cs, cfgDesc)
	if err != nil {
		t.Fatal(err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Created == nil || !cfg.Created.Equal(time.Unix(0, 0)) || cfg.Config.Entrypoint[0] != "/usr/local/bin/app" ||
		len(cfg.History) != 2 || cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("config %s", raw)
	}

	// Nothing but images and blobs: no leases, no pending ingests.
	if err := mdb.View(func(tx *bolt.Tx) error {
		ns := tx.Bucket([]byte("v1")).Bucket([]byte("k8s.io"))
		var names []string
		if err := ns.ForEach(func(k, _ []byte) error { names = append(names, string(k)); return nil }); err != nil {
			return err
		}
		if fmt.Sprint(names) != "[content images]" {
			return fmt.Errorf("namespace buckets %v", names)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// TestSurvivesGarbageCollection runs containerd's own garbage collector over the output: every
// preloaded blob is reachable from an image record, and an unreferenced blob is collected (so the
// collector did run).
func TestSurvivesGarbageCollection(t *testing.T) {
	sum, _, work, mdb, cs, ctx := preloadAndOpen(t)

	orphan := []byte("nobody references me")
	od := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(orphan), Size: int64(len(orphan))}
	if err := content.WriteBlob(ctx, cs, "orphan", bytes.NewReader(orphan), od); err != nil {
		t.Fatal(err)
	}
	if _, err := mdb.GarbageCollect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Info(ctx, od.Digest); err == nil {
		t.Fatalf("garbage collector did not remove the unreferenced blob; the test proves nothing")
	}
	for _, b := range sum.Blobs {
		if _, err := cs.Info(ctx, digest.Digest(b.Digest)); err != nil {
			t.Errorf("blob %s gone after GC: %v", b.Digest, err)
		}
		if _, err := os.Stat(filepath.Join(work, contentDir, "blobs", "sha256", digest.Digest(b.Digest).Encoded())); err != nil {
			t.Errorf("blob file %s gone after GC: %v", b.Digest, err)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeTar(t, dir, "good.tar", map[string]string{"a": "b"})
	cases := []struct {
		name, json, want string
	}{
		{"unknown field", `{"images":[{"name":"a","layers":["good.tar"],"architecture":"amd64","bogus":1}]}`, `unknown field "bogus"`},
		{"no images", `{"images":[]}`, "at least one image"},
		{"no name", `{"images":[{"layers":["good.tar"],"architecture":"amd64"}]}`, "name is required"},
		{"bad name", `{"images":[{"name":"Upper:1","layers":["good.tar"],"architecture":"amd64"}]}`, "invalid image name"},
		{"digest name", `{"images":[{"name":"a@sha256:` + strings.Repeat("0", 64) + `","layers":["good.tar"],"architecture":"amd64"}]}`, "must be a tag"},
		{"no layers", `{"images":[{"name":"a","architecture":"amd64"}]}`, "at least one layer"},
		{"no arch", `{"images":[{"name":"a","layers":["good.tar"]}]}`, "architecture is required"},
		{"duplicate", `{"images":[{"name":"a","layers":["good.tar"],"architecture":"amd64"},{"name":"docker.io/library/a:latest","layers":["good.tar"],"architecture":"amd64"}]}`, "same name as images[0]"},
		{"bad namespace", `{"namespace":"a/b","images":[{"name":"a","layers":["good.tar"],"architecture":"amd64"}]}`, "namespace"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "spec.json")
			if err := os.WriteFile(p, []byte(c.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := loadSpec(p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want error containing %q", err, c.want)
			}
		})
	}
	p := filepath.Join(dir, "ok.json")
	if err := os.WriteFile(p, []byte(`{"images":[{"name":"busybox","layers":["good.tar"],"architecture":"amd64"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := loadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Namespace != "k8s.io" || s.Images[0].Name != "docker.io/library/busybox:latest" || s.Images[0].Layers[0] != good || s.Images[0].OS != "linux" {
		t.Errorf("defaults not applied: %+v", s)
	}
}

func TestLayerErrors(t *testing.T) {
	dir := t.TempDir()
	notTar := filepath.Join(dir, "not.tar")
	if err := os.WriteFile(notTar, bytes.Repeat([]byte("x"), 2000), 0o644); err != nil {
		t.Fatal(err)
	}
	good := writeTar(t, dir, "good.tar", map[string]string{"a": "b"})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	data, _ := os.ReadFile(good)
	_, _ = zw.Write(data)
	_ = zw.Close()
	gzPath := filepath.Join(dir, "good.tar.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ layer, want string }{
		{notTar, "not.tar: not a valid tar archive"},
		{gzPath, "gzip-compressed"},
		{filepath.Join(dir, "missing.tar"), "missing.tar"},
	}
	for _, c := range cases {
		s := &Spec{Images: []ImageSpec{{Name: "x", Layers: []string{good, c.layer}, Architecture: "amd64"}}}
		if err := s.validate(); err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(t.TempDir(), "root")
		_, err := preload(context.Background(), s, options{Root: root, Jobs: 2})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("layer %s: got %v, want error containing %q", c.layer, err, c.want)
		}
		// A failed run leaves nothing behind: no root, no temporary directory.
		entries, _ := os.ReadDir(filepath.Dir(root))
		if len(entries) != 0 {
			t.Errorf("failed run left %v", entries)
		}
	}
	// A non-empty root is refused and left alone.
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Spec{Images: []ImageSpec{{Name: "x", Layers: []string{good}, Architecture: "amd64"}}}
	_ = s.validate()
	if _, err := preload(context.Background(), s, options{Root: root}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty root: %v", err)
	}
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	writeTar(t, dir, "l.tar", map[string]string{"a": "b"})
	spec := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(spec, []byte(`{"images":[{"name":"x:1","layers":["l.tar"],"architecture":"amd64"}],"labels":{"io.cri-containerd.pinned":"pinned"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	root := filepath.Join(dir, "root")
	if code := run([]string{"--spec", spec, "--root", root, "--source-date-epoch", "5"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var sum Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	if sum.SourceDateEpoch != 5 || len(sum.Images) != 1 || len(sum.Images[0].Records) != 3 || len(sum.Blobs) != 3 {
		t.Errorf("summary %s", stdout.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr not empty on success: %s", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"--spec", spec}, &stdout, &stderr); code != 2 {
		t.Errorf("missing --root: exit %d", code)
	}
	if code := run([]string{"--spec", spec, "--root", filepath.Join(dir, "r2"), "--source-date-epoch", "yesterday"}, &stdout, &stderr); code != 2 {
		t.Errorf("bad epoch: exit %d", code)
	}
}

type platformAMD64 struct{}

func (platformAMD64) Match(p ocispec.Platform) bool {
	return p.OS == "linux" && p.Architecture == "amd64"
}
func (platformAMD64) Less(a, b ocispec.Platform) bool { return false }

func TestMain(m *testing.M) {
	// The content store warns on every store when the filesystem lacks fs-verity.
	_ = log.SetLevel("error")
	os.Exit(m.Run())
}
