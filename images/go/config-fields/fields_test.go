package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The file kur reads; regenerate it with `make config-fields` after changing the pinned version.
const committed = "../../../src/patch/kubeadm-fields.json"

func TestCommittedFieldListsAreCurrent(t *testing.T) {
	want, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("%v (run `make config-fields`)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: it does not match the Kubernetes %s types; run `make config-fields` and commit the result", committed, kubernetesVersion)
	}
}

func TestPinnedVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "k8s.io/kubernetes "+kubernetesVersion+"\n") {
		t.Fatalf("go.mod does not require k8s.io/kubernetes %s", kubernetesVersion)
	}
	components, err := os.ReadFile("../../components.json")
	if err != nil {
		t.Fatal(err)
	}
	var pins struct {
		Kubernetes string `json:"kubernetes"`
	}
	if err := json.Unmarshal(components, &pins); err != nil {
		t.Fatal(err)
	}
	if pins.Kubernetes != kubernetesVersion {
		t.Fatalf("images/components.json pins Kubernetes %s, the field lists are for %s", pins.Kubernetes, kubernetesVersion)
	}
}

// Spot checks that the reflection follows encoding/json: inline TypeMeta, named lists, skipped
// fields, types with their own JSON form.
func TestShapes(t *testing.T) {
	data, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Kinds map[string]kindEntry                  `json:"kinds"`
		Types map[string]map[string]json.RawMessage `json:"types"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	field := func(kind, name string) string {
		t.Helper()
		entry, ok := out.Kinds[kind]
		if !ok {
			t.Fatalf("kind %s missing", kind)
		}
		return string(out.Types[entry.Type][name])
	}
	cases := []struct{ kind, field, want string }{
		{"ClusterConfiguration", "kind", `"string"`},
		{"ClusterConfiguration", "apiVersion", `"string"`},
		{"ClusterConfiguration", "apiServer", `{"ref":"kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4.APIServer"}`},
		{"ClusterConfiguration", "apiServerr", ``},
		{"InitConfiguration", "bootstrapTokens", `{"list":{"ref":"kubernetes/cmd/kubeadm/app/apis/bootstraptoken/v1.BootstrapToken"}}`},
		{"KubeletConfiguration", "failCgroupV1", `"boolean"`},
		{"KubeletConfiguration", "maxPods", `"integer"`},
		{"KubeletConfiguration", "syncFrequency", `"any"`},
		{"KubeletConfiguration", "featureGates", `{"map":"boolean"}`},
		{"KubeProxyConfiguration", "mode", `"string"`},
	}
	for _, c := range cases {
		got := strings.Join(strings.Fields(field(c.kind, c.field)), "")
		if got != c.want {
			t.Errorf("%s.%s: got %s, want %s", c.kind, c.field, got, c.want)
		}
	}
}
