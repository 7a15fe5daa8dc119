package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// copyFixture puts testdata/<name> into a fresh bundle directory as config.json.
func copyFixture(t *testing.T, name string, mode os.FileMode) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// decode reads JSON keeping numbers as their text, so comparisons are exact.
func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestStripCgroupsRemovesPathAndLimitsKeepsDevicesAndTheRest(t *testing.T) {
	path := copyFixture(t, "cri-container.json", 0o600)
	before, _ := os.ReadFile(path)

	removed, err := stripCgroups(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`linux.cgroupsPath="/k8s.io/4b0d1f3c5e7a"`,
		`linux.resources.cpu={"shares":2,"quota":10000,"period":100000}`,
		`linux.resources.hugepageLimits=[{"pageSize":"2MB","limit":0}]`,
		`linux.resources.memory={"limit":104857600,"swap":104857600}`,
		`linux.resources.pids={"limit":4096}`,
		`linux.resources.unified={"memory.oom.group":"1"}`,
	}
	if !reflect.DeepEqual(removed, want) {
		t.Fatalf("removed\n got %q\nwant %q", removed, want)
	}

	after, _ := os.ReadFile(path)
	got, expected := decode(t, after), decode(t, before)
	linux := expected["linux"].(map[string]any)
	delete(linux, "cgroupsPath")
	linux["resources"] = map[string]any{"devices": linux["resources"].(map[string]any)["devices"]}
	if !reflect.DeepEqual(got, expected) {
		t.Fatalf("spec after stripping differs from the expected one:\n%s", after)
	}
	// 64-bit values survive as written (a float64 round trip would print 1.8446744073709552e+19).
	if !strings.Contains(string(after), `"hard":18446744073709551615`) {
		t.Fatalf("rlimit changed: %s", after)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestStripCgroupsLeavesSpecsWithNothingToRemoveAlone(t *testing.T) {
	for name, spec := range map[string]string{
		"no linux":     `{"ociVersion":"1.2.1","process":{"args":["sh"]}}`,
		"null linux":   `{"linux":null}`,
		"devices only": `{"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},"namespaces":[]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			// Odd spacing: a rewrite would normalise it.
			text := strings.ReplaceAll(spec, ":", " : ")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			removed, err := stripCgroups(path)
			if err != nil || removed != nil {
				t.Fatalf("removed %q, err %v", removed, err)
			}
			if after, _ := os.ReadFile(path); string(after) != text {
				t.Fatalf("rewritten: %s", after)
			}
		})
	}
}

func TestStripCgroupsEmptyResourcesAreDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"linux":{"cgroupsPath":"/a","resources":{"memory":{}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := stripCgroups(path); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); string(after) != `{"linux":{}}` {
		t.Fatalf("got %s", after)
	}
}

func TestStripCgroupsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := stripCgroups(filepath.Join(dir, "config.json")); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
	for name, spec := range map[string]string{
		"not JSON":           `{"linux":`,
		"linux not object":   `{"linux":[]}`,
		"resources not obj":  `{"linux":{"resources":"x"}}`,
		"top level an array": `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := stripCgroups(path); err == nil {
				t.Fatal("no error")
			}
			if after, _ := os.ReadFile(path); string(after) != spec {
				t.Fatalf("file changed: %s", after)
			}
		})
	}
}
