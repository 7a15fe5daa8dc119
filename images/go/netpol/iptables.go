package main

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

const (
	// chain holds the queue rules; FORWARD jumps to it first.
	chain = "KUR-NETPOL"
	// natChain keeps pod source addresses between pods of the cluster: POSTROUTING (nat) jumps to
	// it first, ahead of the CNI bridge plugin's masquerade (kur's Flannel masquerades all pod
	// traffic leaving a node), so the node of the destination pod sees which pod connects.
	natChain = "KUR-NETPOL-NAT"
	// kubeProxyMasqMark is kube-proxy's "masquerade this" bit (hairpin and external service
	// traffic) and portmapMasqMark the CNI portmap plugin's (hostPort hairpin): such packets go
	// on to their own masquerade rules.
	kubeProxyMasqMark = 0x4000
	portmapMasqMark   = 0x2000
	// decidedMark is set on a packet the agent let through before it is re-run through FORWARD
	// (NF_REPEAT), so the rest of the chain (kube-proxy's, Flannel's) still sees it and the
	// queue rules skip it. Bits 0x4000 and 0x8000 are kube-proxy's.
	decidedMark = 0x20000
	comment     = "kur netpol: new connections of this node's pods to the policy agent"
	natComment  = "kur netpol: pod source addresses kept between pods"
)

// runner runs one command and returns its combined output.
type runner func(name string, args ...string) (string, error)

func execRunner(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// pickBackend chooses iptables-legacy or iptables-nft: the one that already holds more rules,
// which is where the node's kube-proxy and Flannel put theirs (as the node's entrypoint does).
func pickBackend(legacySave, nftSave string) string {
	if countRules(legacySave) > countRules(nftSave) {
		return "legacy"
	}
	return "nft"
}

func countRules(save string) int {
	n := 0
	for _, line := range strings.Split(save, "\n") {
		if strings.HasPrefix(line, "-A ") {
			n++
		}
	}
	return n
}

// family is the iptables command set of one IP family and backend.
type family struct {
	iptables string // iptables-nft, ip6tables-legacy, ...
	restore  string
	prefixes []netip.Prefix // the node's pod CIDRs
	cluster  []netip.Prefix // the cluster's pod CIDRs
}

// families splits the node's and the cluster's pod CIDRs by IP family; a family the node has no
// pod CIDR of is left out.
func families(backend string, podCIDRs, clusterCIDRs []netip.Prefix) []family {
	v4 := family{"iptables-" + backend, "iptables-" + backend + "-restore", nil, nil}
	v6 := family{"ip6tables-" + backend, "ip6tables-" + backend + "-restore", nil, nil}
	pick := func(p netip.Prefix) *family {
		if p.Addr().Is4() {
			return &v4
		}
		return &v6
	}
	for _, p := range podCIDRs {
		f := pick(p)
		f.prefixes = append(f.prefixes, p)
	}
	for _, p := range clusterCIDRs {
		f := pick(p)
		f.cluster = append(f.cluster, p)
	}
	var out []family
	for _, f := range []family{v4, v6} {
		if len(f.prefixes) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// hook is one jump from a built-in chain to one of the agent's chains, kept first.
type hook struct{ table, from, to, comment string }

var hooks = []hook{{"filter", "FORWARD", chain, comment}, {"nat", "POSTROUTING", natChain, natComment}}

func (h hook) rule() []string { return []string{"-m", "comment", "--comment", h.comment, "-j", h.to} }

// chainRules is the iptables-restore input that (re)writes the chain: the first packet of each
// new connection from or to one of the node's pod CIDRs goes to the queue; with no listener on
// the queue the kernel lets it through (--queue-bypass) rather than cutting the node off.
func chainRules(prefixes []netip.Prefix, queue uint16) string {
	var b strings.Builder
	b.WriteString("*filter\n:" + chain + " - [0:0]\n")
	for _, p := range prefixes {
		for _, dir := range []string{"-s", "-d"} {
			fmt.Fprintf(&b, "-A %s %s %s -m mark ! --mark 0x%x/0x%x -m conntrack --ctstate NEW -j NFQUEUE --queue-num %d --queue-bypass\n",
				chain, dir, p, decidedMark, decidedMark, queue)
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// natRules is the iptables-restore input that (re)writes natChain: connections from a pod of this
// node to any pod of the cluster leave without source NAT (ACCEPT ends the nat table's
// POSTROUTING for them), unless kube-proxy or portmap marked them for their masquerade.
func natRules(prefixes, cluster []netip.Prefix) string {
	var b strings.Builder
	b.WriteString("*nat\n:" + natChain + " - [0:0]\n")
	for _, mark := range []int{kubeProxyMasqMark, portmapMasqMark} {
		fmt.Fprintf(&b, "-A %s -m mark --mark 0x%x/0x%x -j RETURN\n", natChain, mark, mark)
	}
	for _, src := range prefixes {
		for _, dst := range cluster {
			fmt.Fprintf(&b, "-A %s -s %s -d %s -j ACCEPT\n", natChain, src, dst)
		}
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// firstIsJump reports whether `iptables -S <from>` output has the jump to `to` as its first rule.
func firstIsJump(listing, from, to string) bool {
	for _, line := range strings.Split(listing, "\n") {
		if strings.HasPrefix(line, "-A "+from+" ") {
			return strings.HasSuffix(strings.TrimSpace(line), "-j "+to)
		}
	}
	return false
}

// ensure installs the chains and keeps the jumps to them first (others, kube-proxy at a
// restart, may insert rules ahead of them). Idempotent: run at start and periodically.
func (f family) ensure(run runner, queue uint16, restoreInput func(string, string) error) error {
	if err := restoreInput(f.restore, chainRules(f.prefixes, queue)+natRules(f.prefixes, f.cluster)); err != nil {
		return err
	}
	for _, h := range hooks {
		listing, err := run(f.iptables, "-w", "5", "-t", h.table, "-S", h.from)
		if err != nil {
			return err
		}
		if firstIsJump(listing, h.from, h.to) {
			continue
		}
		f.deleteJumps(run, h)
		if _, err := run(f.iptables, append([]string{"-w", "5", "-t", h.table, "-I", h.from, "1"}, h.rule()...)...); err != nil {
			return err
		}
	}
	return nil
}

func (f family) deleteJumps(run runner, h hook) {
	for i := 0; i < 10; i++ {
		if _, err := run(f.iptables, append([]string{"-w", "5", "-t", h.table, "-D", h.from}, h.rule()...)...); err != nil {
			return
		}
	}
}

// cleanup removes the jumps and the chains, leaving the node's chains as it had them.
func (f family) cleanup(run runner) {
	for _, h := range hooks {
		f.deleteJumps(run, h)
		_, _ = run(f.iptables, "-w", "5", "-t", h.table, "-F", h.to)
		_, _ = run(f.iptables, "-w", "5", "-t", h.table, "-X", h.to)
	}
}

func execRestore(command, input string) error {
	cmd := exec.Command(command, "-w", "5", "--noflush")
	cmd.Stdin = strings.NewReader(input)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", command, err, strings.TrimSpace(string(out)))
	}
	return nil
}
