package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const leaseV4 = `FLANNEL_NETWORK=10.244.0.0/16
FLANNEL_SUBNET=10.244.1.1/24
FLANNEL_MTU=1450
FLANNEL_IPMASQ=true
`

func TestParseSubnetEnv(t *testing.T) {
	env, err := parseSubnetEnv(strings.NewReader(leaseV4))
	if err != nil {
		t.Fatal(err)
	}
	if got := env.subnets[0].String(); got != "10.244.1.0/24" {
		t.Errorf("subnet = %s, want the network 10.244.1.0/24", got)
	}
	if got := env.networks[0].String(); got != "10.244.0.0/16" {
		t.Errorf("network = %s", got)
	}
	if env.mtu != 1450 || !env.ipMasq {
		t.Errorf("mtu=%d ipMasq=%v", env.mtu, env.ipMasq)
	}
}

func TestParseSubnetEnvDualStack(t *testing.T) {
	env, err := parseSubnetEnv(strings.NewReader(leaseV4 +
		"FLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(env.subnets) != 2 || env.subnets[1].String() != "fd00:10:244:1::/64" {
		t.Errorf("subnets = %v", env.subnets)
	}
}

func TestParseSubnetEnvErrors(t *testing.T) {
	for name, text := range map[string]string{
		"no subnet":   "FLANNEL_NETWORK=10.244.0.0/16\n",
		"no network":  "FLANNEL_SUBNET=10.244.1.1/24\n",
		"bad cidr":    "FLANNEL_NETWORK=10.244.0.0\nFLANNEL_SUBNET=10.244.1.1/24\n",
		"bad mtu":     leaseV4 + "FLANNEL_MTU=big\n",
		"bad line":    leaseV4 + "garbage\n",
		"bad boolean": leaseV4 + "FLANNEL_IPMASQ=maybe\n",
	} {
		if _, err := parseSubnetEnv(strings.NewReader(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func mustConf(t *testing.T, text string) *netConf {
	t.Helper()
	conf, err := parseNetConf([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDelegateConfDefaults(t *testing.T) {
	env, _ := parseSubnetEnv(strings.NewReader(leaseV4))
	conf := mustConf(t, `{"cniVersion":"1.0.0","name":"cbr0","type":"flannel"}`)
	if conf.SubnetFile != defaultSubnetFile || conf.DataDir != defaultDataDir {
		t.Errorf("defaults not applied: %+v", conf)
	}
	got := roundTrip(t, delegateConf(conf, env))
	want := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "cbr0",
		"type":       "bridge",
		"ipMasq":     false, // flanneld masquerades already
		"mtu":        float64(1450),
		"isGateway":  true,
		"ipam": map[string]any{
			"type":   "host-local",
			"ranges": []any{[]any{map[string]any{"subnet": "10.244.1.0/24"}}},
			"routes": []any{map[string]any{"dst": "10.244.0.0/16"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("delegate =\n%v\nwant\n%v", got, want)
	}
}

func TestDelegateConfUserFieldsWin(t *testing.T) {
	env, _ := parseSubnetEnv(strings.NewReader(strings.Replace(leaseV4, "IPMASQ=true", "IPMASQ=false", 1)))
	conf := mustConf(t, `{"cniVersion":"0.3.1","name":"cbr0","type":"flannel",
		"delegate":{"hairpinMode":true,"isDefaultGateway":true,"mtu":1400,"name":"ignored"},
		"ipam":{"routes":[{"dst":"10.244.0.0/16"},{"dst":"192.168.0.0/24"}]},
		"runtimeConfig":{"portMappings":[]}}`)
	got := roundTrip(t, delegateConf(conf, env))
	if got["name"] != "cbr0" {
		t.Errorf("name = %v: the network's name must win", got["name"])
	}
	if got["mtu"] != float64(1400) || got["hairpinMode"] != true || got["isDefaultGateway"] != true {
		t.Errorf("user fields lost: %v", got)
	}
	if got["ipMasq"] != true {
		t.Errorf("ipMasq = %v, want true when flanneld does not masquerade", got["ipMasq"])
	}
	routes := got["ipam"].(map[string]any)["routes"].([]any)
	if len(routes) != 2 {
		t.Errorf("routes = %v, want the user's two without a duplicate", routes)
	}
	if _, ok := got["runtimeConfig"]; !ok {
		t.Errorf("runtimeConfig not passed on")
	}
}

func TestDelegateType(t *testing.T) {
	if _, err := delegateType([]byte(`{"type":7}`)); err == nil {
		t.Error("non-string type accepted")
	}
	if _, err := delegateType([]byte(`{}`)); err == nil {
		t.Error("missing type accepted")
	}
	if got, err := delegateType([]byte(`{"type":"bridge"}`)); err != nil || got != "bridge" {
		t.Errorf("got %q, %v", got, err)
	}
}
