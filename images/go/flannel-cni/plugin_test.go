package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
)

// fakeBridge is a delegate that records the configuration and command it got and answers ADD
// with a minimal result.
const fakeBridge = `#!/bin/sh
cat > "$FAKE_RECORD/$CNI_COMMAND.json"
if [ "$CNI_COMMAND" = ADD ]; then
  echo '{"cniVersion":"1.0.0","ips":[{"address":"10.244.1.2/24","gateway":"10.244.1.1"}]}'
fi
`

type fixture struct {
	record, dataDir, subnetFile string
	stdin                       []byte
}

func setup(t *testing.T) fixture {
	t.Helper()
	root := t.TempDir()
	f := fixture{
		record:     filepath.Join(root, "record"),
		dataDir:    filepath.Join(root, "data"),
		subnetFile: filepath.Join(root, "subnet.env"),
	}
	bin := filepath.Join(root, "bin")
	for _, dir := range []string{f.record, bin} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "bridge"), []byte(fakeBridge), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CNI_PATH", bin)
	t.Setenv("FAKE_RECORD", f.record)
	conf, _ := json.Marshal(map[string]any{
		"cniVersion": "1.0.0", "name": "cbr0", "type": "flannel",
		"subnetFile": f.subnetFile, "dataDir": f.dataDir,
		"delegate": map[string]any{"isDefaultGateway": true},
	})
	f.stdin = conf
	return f
}

func (f fixture) args() *skel.CmdArgs {
	return &skel.CmdArgs{ContainerID: "c1", Netns: "/var/run/netns/x", IfName: "eth0", StdinData: f.stdin}
}

func (f fixture) recorded(t *testing.T, command string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(f.record, command+".json"))
	if err != nil {
		t.Fatalf("delegate did not get %s: %v", command, err)
	}
	var conf map[string]any
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatal(err)
	}
	return conf
}

func TestAddWithoutLeaseAsksToRetry(t *testing.T) {
	f := setup(t)
	err := cmdAdd(f.args())
	var cniErr *types.Error
	if !errors.As(err, &cniErr) || cniErr.Code != types.ErrTryAgainLater {
		t.Fatalf("err = %v, want CNI error %d", err, types.ErrTryAgainLater)
	}
}

func TestAddThenDelUsesSavedConfiguration(t *testing.T) {
	f := setup(t)
	if err := os.WriteFile(f.subnetFile, []byte(leaseV4), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmdAdd(f.args()); err != nil {
		t.Fatal(err)
	}
	added := f.recorded(t, "ADD")
	if added["type"] != "bridge" || added["isDefaultGateway"] != true {
		t.Errorf("ADD delegate conf = %v", added)
	}
	saved := filepath.Join(f.dataDir, "c1-eth0")
	if _, err := os.Stat(saved); err != nil {
		t.Fatalf("delegate configuration not saved: %v", err)
	}

	// The lease disappears (flanneld restarted): DEL must still release what ADD allocated.
	if err := os.Remove(f.subnetFile); err != nil {
		t.Fatal(err)
	}
	if err := cmdDel(f.args()); err != nil {
		t.Fatal(err)
	}
	if deleted := f.recorded(t, "DEL"); !equalJSON(t, deleted, added) {
		t.Errorf("DEL conf %v differs from ADD conf %v", deleted, added)
	}
	if _, err := os.Stat(saved); !os.IsNotExist(err) {
		t.Errorf("saved configuration not removed: %v", err)
	}

	// A second DEL (the runtime retries) succeeds without calling the delegate.
	if err := os.Remove(filepath.Join(f.record, "DEL.json")); err != nil {
		t.Fatal(err)
	}
	if err := cmdDel(f.args()); err != nil {
		t.Fatalf("repeated DEL: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.record, "DEL.json")); !os.IsNotExist(err) {
		t.Error("repeated DEL called the delegate")
	}
}

func TestStatusNeedsLease(t *testing.T) {
	f := setup(t)
	err := cmdStatus(f.args())
	var cniErr *types.Error
	if !errors.As(err, &cniErr) || cniErr.Code != types.ErrPluginNotAvailable {
		t.Fatalf("err = %v, want CNI error %d", err, types.ErrPluginNotAvailable)
	}
	if err := os.WriteFile(f.subnetFile, []byte(leaseV4), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmdStatus(f.args()); err != nil {
		t.Fatalf("with a lease: %v", err)
	}
	f.recorded(t, "STATUS")
}

func TestGCPrunesStaleAttachments(t *testing.T) {
	f := setup(t)
	store := attachmentStore{dir: f.dataDir}
	for _, id := range []string{"live", "stale"} {
		if err := store.save(id, "eth0", []byte(`{"type":"bridge"}`)); err != nil {
			t.Fatal(err)
		}
	}
	var conf map[string]any
	_ = json.Unmarshal(f.stdin, &conf)
	conf["cniVersion"] = "1.1.0"
	conf["cni.dev/valid-attachments"] = []map[string]string{{"containerID": "live", "ifname": "eth0"}}
	stdin, _ := json.Marshal(conf)
	if err := cmdGC(&skel.CmdArgs{StdinData: stdin}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.load("live", "eth0"); err != nil {
		t.Errorf("live attachment pruned: %v", err)
	}
	if _, err := store.load("stale", "eth0"); !os.IsNotExist(err) {
		t.Errorf("stale attachment kept: %v", err)
	}
}

func TestStoreRejectsPathsOutsideDir(t *testing.T) {
	store := attachmentStore{dir: t.TempDir()}
	for _, id := range []string{"", "../x", "a/b", ".hidden"} {
		if err := store.save(id, "eth0", []byte("{}")); err == nil {
			t.Errorf("container ID %q accepted", id)
		}
	}
}

func equalJSON(t *testing.T, a, b map[string]any) bool {
	t.Helper()
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
