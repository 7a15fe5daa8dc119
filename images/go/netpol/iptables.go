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
	// decidedMark is set on a packet the agent let through before it is re-run through FORWARD
	// (NF_REPEAT), so the rest of the chain (kube-proxy's, Flannel's) still sees it and the
	// queue rules skip it. Bits 0x4000 and 0x8000 are kube-proxy's.
	decidedMark = 0x20000
	comment     = "kur netpol: new connections of this node's pods to the policy agent"
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
	prefixes []netip.Prefix
}

func families(backend string, podCIDRs []netip.Prefix) []family {
	var v4, v6 []netip.Prefix
	for _, p := range podCIDRs {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	var out []family
	if len(v4) > 0 {
		out = append(out, family{"iptables-" + backend, "iptables-" + backend + "-restore", v4})
	}
	if len(v6) > 0 {
		out = append(out, family{"ip6tables-" + backend, "ip6tables-" + backend + "-restore", v6})
	}
	return out
}

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

var jumpRule = []string{"-m", "comment", "--comment", comment, "-j", chain}

// firstIsJump reports whether `iptables -S FORWARD` output has the jump as FORWARD's first rule.
func firstIsJump(listing string) bool {
	for _, line := range strings.Split(listing, "\n") {
		if strings.HasPrefix(line, "-A FORWARD") {
			return strings.HasSuffix(strings.TrimSpace(line), "-j "+chain)
		}
	}
	return false
}

// ensure installs the chain and keeps the jump to it first in FORWARD (others, kube-proxy at a
// restart, may insert rules ahead of it). Idempotent: run at start and periodically.
func (f family) ensure(run runner, queue uint16, restoreInput func(string, string) error) error {
	if err := restoreInput(f.restore, chainRules(f.prefixes, queue)); err != nil {
		return err
	}
	listing, err := run(f.iptables, "-w", "5", "-t", "filter", "-S", "FORWARD")
	if err != nil {
		return err
	}
	if firstIsJump(listing) {
		return nil
	}
	f.deleteJumps(run)
	_, err = run(f.iptables, append([]string{"-w", "5", "-t", "filter", "-I", "FORWARD", "1"}, jumpRule...)...)
	return err
}

func (f family) deleteJumps(run runner) {
	for i := 0; i < 10; i++ {
		if _, err := run(f.iptables, append([]string{"-w", "5", "-t", "filter", "-D", "FORWARD"}, jumpRule...)...); err != nil {
			return
		}
	}
}

// cleanup removes the jump and the chain, leaving FORWARD as the node had it.
func (f family) cleanup(run runner) {
	f.deleteJumps(run)
	_, _ = run(f.iptables, "-w", "5", "-t", "filter", "-F", chain)
	_, _ = run(f.iptables, "-w", "5", "-t", "filter", "-X", chain)
}

func execRestore(command, input string) error {
	cmd := exec.Command(command, "-w", "5", "--noflush")
	cmd.Stdin = strings.NewReader(input)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", command, err, strings.TrimSpace(string(out)))
	}
	return nil
}
