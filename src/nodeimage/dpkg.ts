/**
 * Just enough of dpkg's database to lift a few packages (iptables and nftables for the
 * kube-proxy image) out of the node's base root filesystem with everything they need, instead
 * of shipping a second distribution image.
 */
export interface DpkgPackage {
  name: string;
  depends: string[];
}

/** Parses /var/lib/dpkg/status: installed packages and their Depends + Pre-Depends names. */
export function parseDpkgStatus(text: string): Map<string, DpkgPackage> {
  const packages = new Map<string, DpkgPackage>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let current = '';
    for (const line of stanza.split('\n')) {
      if (/^\s/.test(line) && current !== '') {
        fields.set(current, `${fields.get(current) ?? ''} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      current = line.slice(0, colon);
      fields.set(current, line.slice(colon + 1).trim());
    }
    const name = fields.get('Package');
    if (name === undefined || !(fields.get('Status') ?? '').endsWith(' installed')) continue;
    const depends = [fields.get('Pre-Depends'), fields.get('Depends')]
      .filter((v): v is string => v !== undefined && v !== '')
      .flatMap((v) => v.split(','))
      // "a (>= 1) | b": the first alternative that is installed is resolved in closure().
      .map((dep) => dep.trim())
      .filter((dep) => dep !== '');
    packages.set(name, { name, depends });
  }
  return packages;
}

/** Names of `roots` and every installed package they need, alternatives resolved to installed ones. */
export function packageClosure(packages: Map<string, DpkgPackage>, roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    const pkg = packages.get(name);
    if (pkg === undefined) throw new Error(`package ${name} is not installed in the base root filesystem`);
    seen.add(name);
    for (const dep of pkg.depends) {
      const choice = dep
        .split('|')
        .map((alt) => alt.trim().split(/[\s(:]/)[0] ?? '')
        .find((alt) => packages.has(alt));
      // An unsatisfied alternative is a virtual package provided by something already chosen.
      if (choice !== undefined) visit(choice);
    }
  };
  for (const root of roots) visit(root);
  return [...seen].sort();
}

/**
 * On a merged-/usr system /bin, /sbin and /lib* are symlinks into /usr, but dpkg still lists
 * the paths packages were built with (/sbin/xtables-nft-multi): map them to where the files are.
 */
export function mergedUsrPath(path: string): string {
  return /^(bin|sbin|lib|lib32|lib64|libx32)(\/|$)/.test(path) ? `usr/${path}` : path;
}

/** Paths (no leading slash, merged-/usr locations) listed in dpkg's .list files for the given packages. */
export function packagePaths(lists: Map<string, string>, names: readonly string[]): Set<string> {
  const paths = new Set<string>();
  for (const name of names) {
    const list = lists.get(name);
    if (list === undefined) throw new Error(`no file list for package ${name}`);
    for (const line of list.split('\n')) {
      const path = line.trim().replace(/^\/+/, '');
      if (path !== '' && path !== '.') paths.add(mergedUsrPath(path));
    }
  }
  return paths;
}
