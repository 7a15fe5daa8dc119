import { expect } from 'chai';
import { isKurError } from '../util/errors.js';
import { assertPreflight, preflightError, renderChecks, summarizeChecks } from './report.js';
import type { CheckResult } from './result.js';

const results: CheckResult[] = [
  {
    id: 'cgroup-version',
    title: 'cgroup version',
    status: 'ok',
    looked: '/proc/self/mounts: v2',
    message: 'cgroup v2',
  },
  {
    id: 'inotify-watches',
    title: 'inotify watches',
    status: 'warn',
    looked: '/proc/sys/fs/inotify/max_user_watches = 8192',
    message: 'below 524288',
    fix: 'sudo sysctl fs.inotify.max_user_watches=524288\nprintf ... | sudo tee /etc/sysctl.d/x.conf',
  },
  {
    id: 'rootless-cgroups',
    title: 'cgroups delegated to the rootless engine',
    status: 'fail',
    looked: 'cgroup.controllers = "memory pids"',
    message: 'cgroup v2 without delegated cpu',
    fix: 'sudo systemctl daemon-reload',
  },
  {
    id: 'dev-net-tun',
    title: '/dev/net/tun',
    status: 'fail',
    looked: '/dev/net/tun: missing',
    message: 'missing',
  },
  {
    id: 'linger',
    title: 'systemd lingering',
    status: 'skip',
    looked: 'no systemd',
    message: 'not applicable',
  },
];

describe('preflight report', () => {
  it('summarizes failures and warnings', () => {
    const summary = summarizeChecks(results);
    expect(summary.ok).to.equal(false);
    expect(summary.failures.map((f) => f.id)).to.deep.equal(['rootless-cgroups', 'dev-net-tun']);
    expect(summary.warnings.map((w) => w.id)).to.deep.equal(['inotify-watches']);
    expect(summarizeChecks(results.filter((r) => r.status !== 'fail')).ok).to.equal(true);
  });

  it('renders one line per check with what it looked at, and indented messages and fixes for problems', () => {
    const lines = renderChecks(results).split('\n');
    expect(lines[0]).to.equal('ok    cgroup version                            /proc/self/mounts: v2');
    expect(lines[1]).to.equal(
      'WARN  inotify watches                           /proc/sys/fs/inotify/max_user_watches = 8192',
    );
    expect(lines.slice(2, 6)).to.deep.equal([
      '      below 524288',
      '      fix:',
      '        sudo sysctl fs.inotify.max_user_watches=524288',
      '        printf ... | sudo tee /etc/sysctl.d/x.conf',
    ]);
    expect(lines.filter((l) => /^(ok|WARN|FAIL|skip) /.test(l))).to.have.length(results.length);
  });

  it('turns every failure into one preflight error with each reason and fix', () => {
    const error = preflightError(results);
    expect(isKurError(error, 'preflight')).to.equal(true);
    expect(error!.exitCode).to.equal(5);
    expect(error!.message).to.equal(
      'preflight: 2 checks failed, nothing was created: cgroups delegated to the rootless engine; /dev/net/tun',
    );
    expect(error!.detail).to.contain(
      'cgroups delegated to the rootless engine (rootless-cgroups): cgroup v2 without delegated cpu',
    );
    expect(error!.detail).to.contain('looked at: /dev/net/tun: missing');
    expect(error!.hint).to.contain(
      'cgroups delegated to the rootless engine:\n  sudo systemctl daemon-reload',
    );
    expect(error!.hint).to.not.contain('inotify');
    expect(preflightError(results.filter((r) => r.status !== 'fail'))).to.equal(undefined);
    expect(() => assertPreflight(results)).to.throw('2 checks failed');
  });
});
