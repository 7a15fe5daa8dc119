package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
)

const (
	defaultSubnetFile = "/run/flannel/subnet.env"
	defaultDataDir    = "/var/lib/cni/flannel"
)

// netConf is this plugin's network configuration: the common CNI fields plus where flanneld's
// lease is written, where delegate configurations are kept, and fields merged into the delegate.
type netConf struct {
	CNIVersion    string         `json:"cniVersion,omitempty"`
	Name          string         `json:"name,omitempty"`
	Type          string         `json:"type,omitempty"`
	SubnetFile    string         `json:"subnetFile,omitempty"`
	DataDir       string         `json:"dataDir,omitempty"`
	Delegate      map[string]any `json:"delegate,omitempty"`
	IPAM          map[string]any `json:"ipam,omitempty"`
	RuntimeConfig map[string]any `json:"runtimeConfig,omitempty"`
	PrevResult    map[string]any `json:"prevResult,omitempty"`

	ValidAttachments []types.GCAttachment `json:"cni.dev/valid-attachments,omitempty"`
}

func parseNetConf(data []byte) (*netConf, error) {
	conf := &netConf{}
	if err := json.Unmarshal(data, conf); err != nil {
		return nil, fmt.Errorf("parse network configuration: %w", err)
	}
	if conf.SubnetFile == "" {
		conf.SubnetFile = defaultSubnetFile
	}
	if conf.DataDir == "" {
		conf.DataDir = defaultDataDir
	}
	return conf, nil
}

// subnetEnv is what flanneld wrote about this node's lease (KEY=VALUE lines).
type subnetEnv struct {
	networks []*net.IPNet // the whole cluster network(s): FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK
	subnets  []*net.IPNet // this node's lease(s): FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET
	mtu      int          // 0 when flanneld did not say
	ipMasq   bool         // true when flanneld masquerades traffic leaving the cluster network itself
}

func parseSubnetEnv(r io.Reader) (*subnetEnv, error) {
	env := &subnetEnv{}
	scanner := bufio.NewScanner(r)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("malformed line %q", line)
		}
		var err error
		switch key {
		case "FLANNEL_NETWORK", "FLANNEL_IPV6_NETWORK":
			env.networks, err = appendCIDRs(env.networks, key, value)
		case "FLANNEL_SUBNET", "FLANNEL_IPV6_SUBNET":
			env.subnets, err = appendCIDRs(env.subnets, key, value)
		case "FLANNEL_MTU":
			env.mtu, err = strconv.Atoi(value)
		case "FLANNEL_IPMASQ":
			env.ipMasq, err = strconv.ParseBool(value)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if len(env.subnets) == 0 {
		return nil, fmt.Errorf("neither FLANNEL_SUBNET nor FLANNEL_IPV6_SUBNET is set")
	}
	if len(env.networks) == 0 {
		return nil, fmt.Errorf("neither FLANNEL_NETWORK nor FLANNEL_IPV6_NETWORK is set")
	}
	return env, nil
}

// appendCIDRs parses a comma-separated CIDR list. A node's lease is written as the gateway address
// with the prefix length (10.244.1.1/24); IPAM wants the network (10.244.1.0/24).
func appendCIDRs(list []*net.IPNet, key, value string) ([]*net.IPNet, error) {
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		_, network, err := net.ParseCIDR(item)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		list = append(list, network)
	}
	return list, nil
}

// delegateConf builds the configuration handed to the delegate plugin (the bridge plugin unless the
// "delegate" object names another). Fields the user set in "delegate" win; the rest come from the
// lease: MTU, masquerading (only when flanneld does not do it), and host-local IPAM over the
// node's subnet with a route to the whole cluster network.
func delegateConf(conf *netConf, env *subnetEnv) map[string]any {
	out := make(map[string]any, len(conf.Delegate)+6)
	for k, v := range conf.Delegate {
		out[k] = v
	}
	out["name"] = conf.Name
	if conf.CNIVersion != "" {
		out["cniVersion"] = conf.CNIVersion
	}
	setDefault(out, "type", "bridge")
	setDefault(out, "ipMasq", !env.ipMasq)
	if env.mtu > 0 {
		setDefault(out, "mtu", env.mtu)
	}
	if out["type"] == "bridge" {
		// The bridge must carry the subnet's gateway address, or pods have no next hop.
		setDefault(out, "isGateway", true)
	}
	if conf.RuntimeConfig != nil {
		setDefault(out, "runtimeConfig", conf.RuntimeConfig)
	}
	out["ipam"] = delegateIPAM(conf.IPAM, env)
	return out
}

func delegateIPAM(base map[string]any, env *subnetEnv) map[string]any {
	ipam := make(map[string]any, len(base)+3)
	for k, v := range base {
		ipam[k] = v
	}
	setDefault(ipam, "type", "host-local")
	if _, ok := ipam["ranges"]; !ok {
		ranges := make([]any, 0, len(env.subnets))
		for _, subnet := range env.subnets {
			ranges = append(ranges, []any{map[string]any{"subnet": subnet.String()}})
		}
		ipam["ranges"] = ranges
	}
	routes, _ := ipam["routes"].([]any)
	for _, network := range env.networks {
		if !hasRoute(routes, network.String()) {
			routes = append(routes, map[string]any{"dst": network.String()})
		}
	}
	ipam["routes"] = routes
	return ipam
}

func hasRoute(routes []any, dst string) bool {
	for _, r := range routes {
		if m, ok := r.(map[string]any); ok && m["dst"] == dst {
			return true
		}
	}
	return false
}

func setDefault(m map[string]any, key string, value any) {
	if _, ok := m[key]; !ok {
		m[key] = value
	}
}
