package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The test binary doubles as kur-runc when this variable is set, so the end-to-end tests run
// the real main (with the real exec) without building anything.
const beMainEnv = "KUR_RUNC_TEST_BE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(beMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// fakeSystem records the exec instead of doing it.
type fakeSystem struct {
	env     map[string]string
	stdin   *strings.Reader
	stderr  bytes.Buffer
	execErr error
	execs   [][]string
}

func (f *fakeSystem) system() system {
	return system{
		getenv: func(k string) string { return f.env[k] },
		stdin:  f.stdin,
		stderr: &f.stderr,
		exec: func(path string, argv, _ []string) error {
			f.execs = append(f.execs, append([]string{path}, argv...))
			return f.execErr
		},
	}
}

func newFake(t *testing.T) (*fakeSystem, string) {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "kur-runc.log")
	return &fakeSystem{env: map[string]string{"KUR_RUNC_LOG": logFile}, stdin: strings.NewReader("")}, logFile
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}

func TestCreateRewritesTheBundleThenExecsRuncWithTheSameArguments(t *testing.T) {
	f, logFile := newFake(t)
	spec := copyFixture(t, "cri-container.json", 0o644)
	bundle := filepath.Dir(spec)
	args := []string{"--root", "/run/containerd/runc/k8s.io", "--log", filepath.Join(bundle, "log.json"),
		"--log-format", "json", "create", "--bundle", bundle, "--pid-file", bundle + "/init.pid", "c1"}

	if code := run(args, f.system()); code != 126 {
		t.Fatalf("exit %d (the fake exec returns, so run must report a failed exec)", code)
	}
	want := [][]string{append([]string{defaultRunc, defaultRunc}, args...)}
	if !reflect.DeepEqual(f.execs, want) {
		t.Fatalf("exec\n got %q\nwant %q", f.execs, want)
	}
	var after struct{ Linux map[string]json.RawMessage }
	if err := json.Unmarshal([]byte(readFile(t, spec)), &after); err != nil {
		t.Fatal(err)
	}
	if _, ok := after.Linux["cgroupsPath"]; ok {
		t.Fatal("cgroupsPath still there")
	}
	if string(after.Linux["resources"]) == "" || strings.Contains(string(after.Linux["resources"]), "memory") {
		t.Fatalf("resources: %s", after.Linux["resources"])
	}
	log := readFile(t, logFile)
	if !strings.Contains(log, `kur-runc: create c1: removed linux.cgroupsPath="/k8s.io/4b0d1f3c5e7a" linux.resources.cpu=`) ||
		!strings.Contains(log, `linux.resources.memory={"limit":104857600,"swap":104857600}`) {
		t.Fatalf("log: %q", log)
	}
}

func TestRunUsesTheWorkingDirectoryWithoutBundleAndKUR_RUNC_REAL(t *testing.T) {
	f, _ := newFake(t)
	f.env["KUR_RUNC_REAL"] = "/opt/runc"
	spec := copyFixture(t, "cri-container.json", 0o644)
	t.Chdir(filepath.Dir(spec))
	run([]string{"run", "-d", "c2"}, f.system())
	if !reflect.DeepEqual(f.execs, [][]string{{"/opt/runc", "/opt/runc", "run", "-d", "c2"}}) {
		t.Fatalf("exec %q", f.execs)
	}
	if strings.Contains(readFile(t, spec), "cgroupsPath") {
		t.Fatal("spec in the working directory not rewritten")
	}
}

func TestUpdateIsANoOpThatReadsStdin(t *testing.T) {
	f, logFile := newFake(t)
	f.stdin = strings.NewReader(`{"memory":{"limit":1}}`)
	if code := run([]string{"--root", "/r", "update", "--resources=-", "c3"}, f.system()); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if len(f.execs) != 0 {
		t.Fatalf("runc ran: %q", f.execs)
	}
	if f.stdin.Len() != 0 {
		t.Fatalf("stdin not drained: %d bytes left", f.stdin.Len())
	}
	if log := readFile(t, logFile); !strings.Contains(log, "update c3: ignored") {
		t.Fatalf("log: %q", log)
	}
	if f.stderr.Len() != 0 {
		t.Fatalf("stderr: %q", f.stderr.String())
	}
}

func TestOtherCommandsPassThroughUntouched(t *testing.T) {
	for _, args := range [][]string{
		{"--version"},
		{"features"},
		{"--root", "/r", "state", "c4"},
		{"--root", "/r", "kill", "c4", "9"},
		{"--root", "/r", "delete", "--force", "c4"},
		{"--root", "/r", "exec", "--process", "/tmp/p.json", "--detach", "c4"},
		{"--root", "/r", "start", "c4"},
		{"--root", "/r", "ps", "--format", "json", "c4"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f, logFile := newFake(t)
			// A spec in the working directory must stay as it is for these commands.
			spec := copyFixture(t, "cri-container.json", 0o644)
			before := readFile(t, spec)
			t.Chdir(filepath.Dir(spec))
			run(args, f.system())
			want := [][]string{append([]string{defaultRunc, defaultRunc}, args...)}
			if !reflect.DeepEqual(f.execs, want) {
				t.Fatalf("exec\n got %q\nwant %q", f.execs, want)
			}
			if readFile(t, spec) != before {
				t.Fatal("spec changed")
			}
			// Only the fake's failed exec is logged.
			if log := readFile(t, logFile); strings.Count(log, "\n") != 1 || !strings.Contains(log, "error: exec") {
				t.Fatalf("log: %q", log)
			}
		})
	}
}

func TestABrokenSpecStopsCreateWithTheReasonInRuncsLog(t *testing.T) {
	f, _ := newFake(t)
	bundle := t.TempDir()
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	runcLog := filepath.Join(bundle, "log.json")
	code := run([]string{"--log", runcLog, "--log-format", "json", "create", "-b", bundle, "c5"}, f.system())
	if code != 1 || len(f.execs) != 0 {
		t.Fatalf("exit %d, execs %q", code, f.execs)
	}
	// containerd's shim reports the last "error" entry of runc's log as the reason.
	var entry struct{ Level, Msg, Time string }
	if err := json.Unmarshal([]byte(readFile(t, runcLog)), &entry); err != nil {
		t.Fatalf("runc log: %v", err)
	}
	if entry.Level != "error" || !strings.HasPrefix(entry.Msg, "kur-runc: create c5: cannot remove the cgroup settings") || entry.Time == "" {
		t.Fatalf("runc log entry %+v", entry)
	}
	if !strings.Contains(f.stderr.String(), "cannot remove the cgroup settings") {
		t.Fatalf("stderr %q", f.stderr.String())
	}
}

func TestNoticesFallBackToRuncsLogInItsTextFormat(t *testing.T) {
	f, _ := newFake(t)
	f.env["KUR_RUNC_LOG"] = filepath.Join(t.TempDir(), "missing-dir", "x.log") // cannot be opened
	runcLog := filepath.Join(t.TempDir(), "runc.log")
	run([]string{"--log", runcLog, "update", "c6"}, f.system())
	if log := readFile(t, runcLog); !strings.Contains(log, `level=info msg="update c6: ignored, containers run without cgroups"`) {
		t.Fatalf("runc log %q", log)
	}
	if f.stderr.Len() != 0 {
		t.Fatalf("stderr %q", f.stderr.String())
	}
}

func TestExecFailures(t *testing.T) {
	f, _ := newFake(t)
	f.execErr = syscall.ENOENT
	if code := run([]string{"state", "x"}, f.system()); code != 127 {
		t.Fatalf("missing runc: exit %d", code)
	}
	if !strings.Contains(f.stderr.String(), "kur-runc: exec /usr/local/sbin/runc: no such file or directory") {
		t.Fatalf("stderr %q", f.stderr.String())
	}

	// KUR_RUNC_REAL pointing at kur-runc itself would loop forever.
	f, _ = newFake(t)
	self := filepath.Join(t.TempDir(), "kur-runc")
	if err := os.WriteFile(self, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "runc")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	f.env["KUR_RUNC_REAL"] = link
	sys := f.system()
	sys.self = self
	if code := run([]string{"state", "x"}, sys); code != 1 || len(f.execs) != 0 {
		t.Fatalf("exit %d, execs %q", code, f.execs)
	}
	if !strings.Contains(f.stderr.String(), "is kur-runc itself") {
		t.Fatalf("stderr %q", f.stderr.String())
	}
}

// fakeRunc writes a shell script standing in for runc: it records its pid, its arguments (one
// per line), its stdin and the bundle's config.json as it sees them, then exits with $FAKE_EXIT.
func fakeRunc(t *testing.T, out string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "runc")
	body := `#!/bin/sh
echo $$ > "` + out + `/pid"
: > "` + out + `/args"
for a in "$@"; do printf '%s\n' "$a" >> "` + out + `/args"; done
[ -f "$FAKE_BUNDLE/config.json" ] && cp "$FAKE_BUNDLE/config.json" "` + out + `/config.json"
cat > "` + out + `/stdin"
exit "${FAKE_EXIT:-0}"
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// kurRunc runs the test binary as kur-runc with a fake runc.
func kurRunc(t *testing.T, out, bundle string, stdin string, env []string, args ...string) (*exec.Cmd, string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beMainEnv+"=1", "KUR_RUNC_REAL="+fakeRunc(t, out), "FAKE_BUNDLE="+bundle,
		"KUR_RUNC_LOG="+filepath.Join(out, "kur-runc.log"))
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return cmd, stderr.String(), err
}

func TestEndToEndWithAFakeRunc(t *testing.T) {
	t.Run("create: runc replaces kur-runc (same pid) with the same arguments and sees the stripped spec", func(t *testing.T) {
		out := t.TempDir()
		spec := copyFixture(t, "cri-container.json", 0o644)
		bundle := filepath.Dir(spec)
		args := []string{"--root", "/r", "--log", bundle + "/log.json", "--log-format", "json", "create", "--bundle", bundle, "c1"}
		cmd, stderr, err := kurRunc(t, out, bundle, "container stdin", nil, args...)
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		if stderr != "" {
			t.Fatalf("kur-runc wrote to stderr (the container's stderr under the shim): %q", stderr)
		}
		if pid := strings.TrimSpace(readFile(t, out+"/pid")); pid != strconv.Itoa(cmd.Process.Pid) {
			t.Fatalf("runc ran as pid %s, kur-runc was %d: not an exec", pid, cmd.Process.Pid)
		}
		if got := strings.Split(strings.TrimSuffix(readFile(t, out+"/args"), "\n"), "\n"); !reflect.DeepEqual(got, args) {
			t.Fatalf("runc args\n got %q\nwant %q", got, args)
		}
		if readFile(t, out+"/stdin") != "container stdin" {
			t.Fatal("runc did not get kur-runc's stdin")
		}
		seen := readFile(t, out+"/config.json")
		if strings.Contains(seen, "cgroupsPath") || strings.Contains(seen, `"memory"`) || !strings.Contains(seen, `"devices"`) {
			t.Fatalf("runc saw %s", seen)
		}
		if !strings.Contains(readFile(t, out+"/kur-runc.log"), "create c1: removed linux.cgroupsPath") {
			t.Fatal("nothing logged")
		}
	})

	t.Run("pass-through keeps runc's exit status and output streams", func(t *testing.T) {
		out := t.TempDir()
		_, _, err := kurRunc(t, out, "", "", []string{"FAKE_EXIT=3"}, "--root", "/r", "kill", "c1", "KILL")
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
			t.Fatalf("err %v", err)
		}
		if got := readFile(t, out+"/args"); got != "--root\n/r\nkill\nc1\nKILL\n" {
			t.Fatalf("args %q", got)
		}
	})

	t.Run("update: runc never runs, the resources on stdin are consumed, exit 0", func(t *testing.T) {
		out := t.TempDir()
		_, stderr, err := kurRunc(t, out, "", `{"cpu":{"shares":1024}}`, nil, "update", "--resources", "-", "c1")
		if err != nil || stderr != "" {
			t.Fatalf("err %v, stderr %q", err, stderr)
		}
		if _, statErr := os.Stat(out + "/args"); !os.IsNotExist(statErr) {
			t.Fatal("the fake runc ran")
		}
	})
}
