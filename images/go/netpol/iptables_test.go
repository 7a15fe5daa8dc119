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

func TestChainRules(t *testing.T) {
	got := chainRules([]netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")}, 100)
	want := "*filter\n:KUR-NETPOL - [0:0]\n" +
		"-A KUR-NETPOL -s 10.244.1.0/24 -m mark ! --mark 0x20000/0x20000 -m conntrack --ctstate NEW -j NFQUEUE --queue-num 100 --queue-bypass\n" +
		"-A KUR-NETPOL -d 10.244.1.0/24 -m mark ! --mark 0x20000/0x20000 -m conntrack --ctstate NEW -j NFQUEUE --queue-num 100 --queue-bypass\n" +
		"COMMIT\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFamilies(t *testing.T) {
	fams := families("legacy", []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24"), netip.MustParsePrefix("fd00:10:244:1::/64")})
	if len(fams) != 2 || fams[0].iptables != "iptables-legacy" || fams[1].restore != "ip6tables-legacy-restore" {
		t.Errorf("families: %+v", fams)
	}
	if len(families("nft", nil)) != 0 {
		t.Error("no CIDRs, no families")
	}
}

// fakeIptables records commands and answers `-S FORWARD` with the given listing.
type fakeIptables struct {
	listing  string
	commands []string
	restored string
}

func (f *fakeIptables) run(name string, args ...string) (string, error) {
	line := name + " " + strings.Join(args, " ")
	f.commands = append(f.commands, line)
	if strings.Contains(line, " -S FORWARD") {
		return f.listing, nil
	}
	if strings.Contains(line, " -D FORWARD") && strings.Count(strings.Join(f.commands, "\n"), " -D FORWARD") > 1 {
		return "", errors.New("no such rule")
	}
	return "", nil
}

func (f *fakeIptables) restore(cmd, input string) error { f.restored = cmd + "\n" + input; return nil }

func TestEnsure(t *testing.T) {
	fam := families("nft", []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")})[0]

	first := &fakeIptables{listing: "-P FORWARD ACCEPT\n-A FORWARD -m comment --comment \"" + comment + "\" -j KUR-NETPOL\n-A FORWARD -j KUBE-FORWARD\n"}
	if err := fam.ensure(first.run, 100, first.restore); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.restored, "iptables-nft-restore\n*filter") {
		t.Errorf("restore: %q", first.restored)
	}
	if len(first.commands) != 1 {
		t.Errorf("the jump is first already: nothing to change, got %v", first.commands)
	}

	behind := &fakeIptables{listing: "-P FORWARD ACCEPT\n-A FORWARD -j KUBE-FORWARD\n-A FORWARD -m comment --comment \"" + comment + "\" -j KUR-NETPOL\n"}
	if err := fam.ensure(behind.run, 100, behind.restore); err != nil {
		t.Fatal(err)
	}
	last := behind.commands[len(behind.commands)-1]
	if !strings.Contains(last, "-I FORWARD 1") || !strings.HasSuffix(last, "-j KUR-NETPOL") {
		t.Errorf("the jump must be re-inserted first: %v", behind.commands)
	}
	if !strings.Contains(strings.Join(behind.commands, "\n"), "-D FORWARD") {
		t.Errorf("the old jump must be deleted: %v", behind.commands)
	}
}

func TestCleanup(t *testing.T) {
	fam := families("nft", []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24")})[0]
	f := &fakeIptables{}
	fam.cleanup(f.run)
	all := strings.Join(f.commands, "\n")
	for _, want := range []string{"-D FORWARD", "-F KUR-NETPOL", "-X KUR-NETPOL"} {
		if !strings.Contains(all, want) {
			t.Errorf("cleanup lacks %s: %v", want, f.commands)
		}
	}
}
