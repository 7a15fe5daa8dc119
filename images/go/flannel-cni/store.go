package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
)

// attachmentStore keeps each attachment's delegate configuration in dir, one file per
// container ID and interface name.
type attachmentStore struct{ dir string }

func (s attachmentStore) path(containerID, ifName string) (string, error) {
	name := containerID + "-" + ifName
	// Both come from the runtime; refuse anything that could leave dir.
	if containerID == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("invalid container ID or interface name %q", name)
	}
	return filepath.Join(s.dir, name), nil
}

func (s attachmentStore) save(containerID, ifName string, data []byte) error {
	p, err := s.path(containerID, ifName)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	// Write then rename, so a crash never leaves a truncated file for DEL to choke on.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func (s attachmentStore) load(containerID, ifName string) ([]byte, error) {
	p, err := s.path(containerID, ifName)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

func (s attachmentStore) remove(containerID, ifName string) error {
	p, err := s.path(containerID, ifName)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// prune removes the saved configuration of every attachment that is not in valid.
func (s attachmentStore) prune(valid []types.GCAttachment) error {
	keep := make(map[string]bool, len(valid))
	for _, a := range valid {
		keep[a.ContainerID+"-"+a.IfName] = true
	}
	entries, err := os.ReadDir(s.dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || keep[e.Name()] {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
