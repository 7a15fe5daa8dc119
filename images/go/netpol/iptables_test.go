package main

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestPickBackend(t *testing.T) {
	kube := "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j KUBE-FORWARD\n-A FORWARD -s 10.244.0.0/16 -j ACCEPT\nCOMMIT\n"
	empty := "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"
	if got := pickBackend(kube, empty); got != "legacy" {
		t.Errorf("rules in legacy: %s", got)
	}
	if got := pickBackend(empty, kube); got != "nft" {
		t.Errorf("rules in nft: %s", got)
	}
	if got := pickBackend("", ""); got != "nft" {
		t.Errorf("no rules anywhere: %s", got)
	}
}

func TestRestoreInputs(t *testing.T) {
	node := []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}
	cases := map[string]struct{ got, want string }{
		"filter: queue the node's pods' new connections": {
			chainRules(node, 100),
			"*filter\n:KUR-NETPOL - [0:0]\n" +
				"-A KUR-NETPOL -s 10.244.1.0/24 -m mark ! --mark 0x20000/0x20000 -m conntrack --ctstate NEW -j NFQUEUE --queue-num 100 --queue-bypass\n" +
				"-A KUR-NETPOL -d 10.244.1.0/24 -m mark ! --mark 0x20000/0x20000 -m conntrack --ctstate NEW -j NFQUEUE --queue-num 100 --queue-bypass\n" +
				"COMMIT\n",
		},
		"nat: no source NAT between pods, except kube-proxy's and portmap's": {
			natRules(node, []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}),
			"*nat\n:KUR-NETPOL-NAT - [0:0]\n" +
				"-A KUR-NETPOL-NAT -m mark --mark 0x4000/0x4000 -j RETURN\n" +
				"-A KUR-NETPOL-NAT -m mark --mark 0x2000/0x2000 -j RETURN\n" +
				"-A KUR-NETPOL-NAT -s 10.244.1.0/24 -d 10.244.0.0/16 -j ACCEPT\n" +
				"COMMIT\n",
		},
	}
	for name, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", name, tc.got, tc.want)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.244.0.0/16, fd00::1/56,")
	if err != nil || len(got) != 2 || got[0].String() != "10.244.0.0/16" || got[1].String() != "fd00::/56" {
		t.Errorf("got %v %v", got, err)
	}
	if _, err := parsePrefixes("10.244.0.0"); err == nil {
		t.Error("an address is not a CIDR")
	}
}

func TestFamilies(t *testing.T) {
	cluster := []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:10:244::/56")}
	fams := families("legacy", []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24"), netip.MustParsePrefix("fd00:10:244:1::/64")}, cluster)
	if len(fams) != 2 || fams[0].iptables != "iptables-legacy" || fams[1].restore != "ip6tables-legacy-restore" {
		t.Errorf("families: %+v", fams)
	}
	if fams[0].cluster[0] != cluster[0] || fams[1].cluster[0] != cluster[1] || len(fams[0].cluster) != 1 {
		t.Errorf("cluster CIDRs by family: %+v", fams)
	}
	// A node with no IPv6 pod CIDR gets no ip6tables rules, whatever the cluster has.
	if got := families("nft", []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}, cluster); len(got) != 1 {
		t.Errorf("IPv4 node: %+v", got)
	}
	if len(families("nft", nil, cluster)) != 0 {
		t.Error("no CIDRs, no families")
	}
}

// fakeIptables records commands and answers `-S FORWARD` and `-S POSTROUTING` with the given
// listings; each -D succeeds once per chain.
type fakeIptables struct {
	listing, natListing string
	commands            []string
	restored            string
}

func (f *fakeIptables) run(name string, args ...string) (string, error) {
	line := name + " " + strings.Join(args, " ")
	f.commands = append(f.commands, line)
	switch {
	case strings.Contains(line, " -S FORWARD"):
		return f.listing, nil
	case strings.Contains(line, " -S POSTROUTING"):
		return f.natListing, nil
	}
	for _, from := range []string{" -D FORWARD", " -D POSTROUTING"} {
		if strings.Contains(line, from) && strings.Count(strings.Join(f.commands, "\n"), from) > 1 {
			return "", errors.New("no such rule")
		}
	}
	return "", nil
}

func (f *fakeIptables) restore(cmd, input string) error { f.restored = cmd + "\n" + input; return nil }

func TestEnsure(t *testing.T) {
	fam := families("nft", []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}, []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")})[0]
	natFirst := "-P POSTROUTING ACCEPT\n-A POSTROUTING -m comment --comment \"" + natComment + "\" -j KUR-NETPOL-NAT\n-A POSTROUTING -j KUBE-POSTROUTING\n"

	first := &fakeIptables{
		listing:    "-P FORWARD ACCEPT\n-A FORWARD -m comment --comment \"" + comment + "\" -j KUR-NETPOL\n-A FORWARD -j KUBE-FORWARD\n",
		natListing: natFirst,
	}
	if err := fam.ensure(first.run, 100, first.restore); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.restored, "iptables-nft-restore\n*filter") || !strings.Contains(first.restored, "*nat\n:KUR-NETPOL-NAT") {
		t.Errorf("restore: %q", first.restored)
	}
	if len(first.commands) != 2 {
		t.Errorf("the jumps are first already: nothing to change, got %v", first.commands)
	}

	behind := &fakeIptables{
		listing:    "-P FORWARD ACCEPT\n-A FORWARD -j KUBE-FORWARD\n-A FORWARD -m comment --comment \"" + comment + "\" -j KUR-NETPOL\n",
		natListing: natFirst,
	}
	if err := fam.ensure(behind.run, 100, behind.restore); err != nil {
		t.Fatal(err)
	}
	last := behind.commands[len(behind.commands)-2]
	if !strings.Contains(last, "-I FORWARD 1") || !strings.HasSuffix(last, "-j KUR-NETPOL") {
		t.Errorf("the jump must be re-inserted first: %v", behind.commands)
	}
	if !strings.Contains(strings.Join(behind.commands, "\n"), "-D FORWARD") {
		t.Errorf("the old jump must be deleted: %v", behind.commands)
	}
	if strings.Contains(strings.Join(behind.commands, "\n"), "POSTROUTING 1") {
		t.Errorf("the nat jump is first already: %v", behind.commands)
	}
}

func TestCleanup(t *testing.T) {
	fam := families("nft", []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}, nil)[0]
	f := &fakeIptables{}
	fam.cleanup(f.run)
	all := strings.Join(f.commands, "\n")
	for _, want := range []string{"-D FORWARD", "-F KUR-NETPOL", "-X KUR-NETPOL", "-t nat -D POSTROUTING", "-t nat -F KUR-NETPOL-NAT", "-t nat -X KUR-NETPOL-NAT"} {
		if !strings.Contains(all, want) {
			t.Errorf("cleanup lacks %s: %v", want, f.commands)
		}
	}
}
