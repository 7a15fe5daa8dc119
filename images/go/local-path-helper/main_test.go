package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runHelper(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestCreateThenDelete(t *testing.T) {
	parent := t.TempDir()
	vol := filepath.Join(parent, "pvc-1_default_data")
	if code, out := runHelper(t, "-p", vol, "-s", "1024", "-m", "Filesystem", "-a", "create"); code != 0 {
		t.Fatalf("create: exit %d: %s", code, out)
	}
	info, err := os.Stat(vol)
	if err != nil || !info.IsDir() {
		t.Fatalf("volume directory missing: %v", err)
	}
	if info.Mode().Perm() != 0o777 {
		t.Errorf("mode %v, want 0777", info.Mode().Perm())
	}
	if err := os.WriteFile(filepath.Join(vol, "data"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Creating again (a retried helper pod) succeeds and keeps the data.
	if code, out := runHelper(t, "-p", vol, "-a", "create"); code != 0 {
		t.Fatalf("second create: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(vol, "data")); err != nil {
		t.Errorf("second create lost data: %v", err)
	}
	if code, out := runHelper(t, "-p", vol, "-a", "delete"); code != 0 {
		t.Fatalf("delete: exit %d: %s", code, out)
	}
	if _, err := os.Stat(vol); !os.IsNotExist(err) {
		t.Errorf("volume still there after delete: %v", err)
	}
	if _, err := os.Stat(parent); err != nil {
		t.Errorf("parent removed: %v", err)
	}
	// Deleting what is gone succeeds (the provisioner retries deletes).
	if code, out := runHelper(t, "-p", vol, "-a", "delete"); code != 0 {
		t.Fatalf("delete of a missing volume: exit %d: %s", code, out)
	}
}

func TestEnvironmentFallback(t *testing.T) {
	vol := filepath.Join(t.TempDir(), "v")
	t.Setenv("VOL_DIR", vol)
	t.Setenv("VOL_MODE", "Filesystem")
	if code, out := runHelper(t, "-a", "create"); code != 0 {
		t.Fatalf("create from VOL_DIR: exit %d: %s", code, out)
	}
	if _, err := os.Stat(vol); err != nil {
		t.Fatal(err)
	}
}

func TestRefusals(t *testing.T) {
	parent := t.TempDir()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no path", []string{"-p", "", "-a", "create"}, "no volume path"},
		{"relative", []string{"-p", "var/x", "-a", "create"}, "not absolute"},
		{"unclean", []string{"-p", parent + "/../x", "-a", "delete"}, "not clean"},
		{"root", []string{"-p", "/", "-a", "delete"}, "directly under /"},
		{"top level", []string{"-p", "/var", "-a", "delete"}, "directly under /"},
		{"block", []string{"-p", parent + "/b", "-m", "Block", "-a", "create"}, "not supported"},
		{"action", []string{"-p", parent + "/c", "-a", "resize"}, "want create or delete"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("VOL_DIR", "")
			code, out := runHelper(t, c.args...)
			if code == 0 || !strings.Contains(out, c.want) {
				t.Errorf("exit %d, output %q; want failure with %q", code, out, c.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, out := runHelper(t, "-version")
	if code != 0 || !strings.HasPrefix(out, "local-path-helper ") {
		t.Errorf("exit %d, output %q", code, out)
	}
}
