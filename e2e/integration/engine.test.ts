import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { expect } from 'chai';
import { boundingSetOf, capabilitiesFromMask } from '../../src/engine/capabilities.js';
import { connectEngine } from '../../src/engine/connect.js';
import { detectEngine, type EngineInfo } from '../../src/engine/detect.js';
import { readFile, writeFiles } from '../../src/engine/files.js';
import { privilegeSpec, type PrivilegeMode } from '../../src/engine/privilege.js';
import type { ContainerSpec, Engine } from '../../src/engine/types.js';
import { withEngineLock } from '../../src/cluster/engine-lock.js';
import { packEntries, readEntries } from '../../src/util/archive.js';
import { imageArchiveStream } from '../../src/util/image-archive.js';
import { silentLogger } from '../../src/util/logger.js';
import { leftovers, removeTestObjects, testLabels as labelsOf } from '../support/cleanup.js';
import { describeEachEngine, type TestEngine } from '../support/engines.js';
import { ensureBuilt, runKur } from '../support/kur-cli.js';
import { loadBusyboxImage } from '../support/test-images.js';
import { kurFailure } from '../support/assert.js';

/** /proc status of the engine's daemon when the harness recorded its pid, else of this process. */
function engineStatusFile(target: TestEngine): string {
  try {
    const pid = readFileSync(`/run/kur-test/${target.id}.pid`, 'utf8').trim();
    if (/^\d+$/.test(pid) && existsSync(`/proc/${pid}/status`)) return `/proc/${pid}/status`;
  } catch {
    // no pid file: fall through
  }
  return '/proc/self/status';
}

/** cgroup v2 when the unified hierarchy is mounted at /sys/fs/cgroup itself. */
const hostCgroupVersion = existsSync('/sys/fs/cgroup/cgroup.controllers') ? 2 : 1;

describeEachEngine('engine layer', (target: TestEngine) => {
  const run = randomBytes(3).toString('hex');
  const image = `kur.local/test-busybox:${run}`;
  const network = `kur-test-${run}`;
  const testLabels = labelsOf(run);
  let engine: Engine;
  let info: EngineInfo;

  before(async function () {
    this.timeout(120_000);
    ensureBuilt();
    engine = await connectEngine({ host: target.host, env: {}, logger: silentLogger });
    info = await detectEngine(engine, { logger: silentLogger, refresh: true });
  });

  after(() => engine?.close());

  describe('operations', () => {
    after(async function () {
      this.timeout(120_000);
      await removeTestObjects(engine, run);
    });

    it('releases the engine lock without the anonymous volume an image VOLUME gives its container', async function () {
      this.timeout(60_000);
      const withVolume = `kur.local/test-volume:${run}`;
      const { stream, result } = imageArchiveStream({
        repoTags: [withVolume],
        config: { architecture: info.arch, cmd: ['/x'], volumes: ['/data'], labels: testLabels },
        layers: [
          { entries: [{ type: 'file', path: 'x', content: Buffer.from('x'), mode: 0o755 }], comment: 'test' },
        ],
      });
      await Promise.all([engine.images.load(stream), result]);
      const before = new Set((await engine.volumes.list()).map((v) => v.name));
      await withEngineLock(engine, { image: withVolume, logger: silentLogger }, () => Promise.resolve());
      const added = (await engine.volumes.list()).map((v) => v.name).filter((n) => !before.has(n));
      expect(added).to.deep.equal([]);
    });

    const node = (
      name: string,
      privilege: PrivilegeMode,
      extra: Partial<ContainerSpec> = {},
    ): ContainerSpec => ({
      name,
      image,
      hostname: name,
      labels: { ...testLabels, 'dev.kur.role': 'control-plane' },
      env: { container: 'kur' },
      cmd: ['sleep', '3600'],
      ...privilegeSpec(privilege, engine.endpoint.provider),
      tmpfs: { '/run': 'rw', '/tmp': 'rw' },
      mounts: [
        { type: 'volume', target: '/var', labels: testLabels },
        { type: 'bind', source: '/lib/modules', target: '/lib/modules', readOnly: true },
      ],
      devices: target.expected.rootless && existsSync('/dev/fuse') ? [{ hostPath: '/dev/fuse' }] : undefined,
      ports: [{ containerPort: 6443, hostIp: '127.0.0.1' }],
      network: { name: network, aliases: [name] },
      restartPolicy: { name: 'on-failure', maximumRetryCount: 1 },
      cgroupnsMode: 'private',
      pidsLimit: -1,
      stopSignal: 'SIGRTMIN+3',
      ...extra,
    });

    it('resolves the endpoint and detects the engine it promises', () => {
      expect(engine.endpoint).to.include({ source: '--host', address: target.host });
      expect(info.provider).to.equal(target.expected.provider);
      expect(info.rootless).to.equal(target.expected.rootless);
      expect(info.cgroupVersion).to.equal(hostCgroupVersion);
      expect(info.apiVersion).to.match(/^1\.\d+$/);
      expect(info.arch).to.match(/^(amd64|arm64)$/);
      expect(info.privilege.kind).to.not.equal('unavailable');
      if (info.rootless && info.cgroupVersion === 1) {
        expect(info.limits).to.deep.equal({ memory: false, pids: false, cpu: false });
      }
    });

    it('falls back to explicit capabilities exactly when the bounding set is restricted', () => {
      // A rootful engine has the bounding set of the process that started it (the harness keeps
      // its pid; else this test's own, as CI starts both from one shell); a rootless engine's user
      // namespace starts with a full one.
      const hostSet = capabilitiesFromMask(boundingSetOf(readFileSync(engineStatusFile(target), 'utf8'))!);
      const restricted = !target.expected.rootless && hostSet.length < 41;
      if (!restricted || info.provider === 'podman') {
        // Podman's --privileged grants the bounding set it has, so it needs no fallback.
        expect(info.privilege.kind).to.equal('privileged');
        return;
      }
      expect(info.privilege.kind).to.equal('explicit-capabilities');
      if (info.privilege.kind !== 'explicit-capabilities') return;
      const missingFromHost = capabilitiesFromMask('1ffffffffff').filter((c) => !hostSet.includes(c));
      expect(info.privilege.missing).to.deep.equal(missingFromHost);
      expect(info.privilege.reason).to.match(/caps|capabilit|not permitted/i);
    });

    it('loads an image built from a tar stream of busybox-static', async () => {
      const { loaded, archive } = await loadBusyboxImage(engine, image, testLabels);
      expect(loaded).to.include(image);
      const inspected = await engine.images.inspect(image);
      expect(inspected.id).to.equal(archive.imageId);
      expect(inspected.labels).to.deep.equal(testLabels);
      expect((await engine.images.list({ labels: testLabels })).map((i) => i.id)).to.include(archive.imageId);
    });

    it('creates a network with subnet, MTU and labels', async () => {
      const id = await engine.networks.create({
        name: network,
        subnet: '10.213.7.0/24',
        gateway: '10.213.7.1',
        mtu: 1400,
        labels: { ...testLabels, 'dev.kur.cluster': run },
      });
      const inspected = await engine.networks.inspect(network);
      expect(inspected.id).to.equal(id);
      expect(inspected.mtu).to.equal(1400);
      expect(inspected.subnets).to.deep.equal([{ subnet: '10.213.7.0/24', gateway: '10.213.7.1' }]);
      expect(inspected.labels).to.include({ 'dev.kur.cluster': run });
      const listed = await engine.networks.list({ labels: { 'dev.kur.cluster': run } });
      expect(listed.map((n) => n.name)).to.deep.equal([network]);
      const duplicate = await kurFailure(engine.networks.create({ name: network, labels: testLabels }));
      expect(duplicate.kind).to.equal('conflict');
      expect(duplicate.message).to.contain(`network "${network}"`);
    });

    it('runs a node-like container with the detected privilege', async () => {
      const id = await engine.containers.create(node(`kur-test-${run}-node`, info.privilege));
      await engine.containers.start(id);
      const inspected = await engine.containers.inspect(id);
      expect(inspected.state.running).to.equal(true);
      expect(inspected.labels).to.include({ 'dev.kur.role': 'control-plane' });
      expect(inspected.networks[network]?.ipv4Address).to.match(/^10\.213\.7\./);
      const port = inspected.ports.find((p) => p.containerPort === 6443);
      expect(port?.hostIp).to.equal('127.0.0.1');
      expect(port?.hostPort).to.be.greaterThan(0);
      expect(inspected.mounts.find((m) => m.destination === '/var')?.type).to.equal('volume');
      const status = await engine.containers.exec(id, { cmd: ['cat', '/proc/1/status'], check: true });
      const caps = capabilitiesFromMask(boundingSetOf(status.stdout)!);
      expect(caps).to.include('CAP_SYS_ADMIN');
      // cgroupns=private: the node has a cgroup namespace of its own (Podman's compat create
      // would silently leave it in the engine's).
      const cgroupns = await engine.containers.exec(id, {
        cmd: ['readlink', '/proc/1/ns/cgroup'],
        check: true,
      });
      expect(cgroupns.stdout.trim()).to.match(/^cgroup:\[\d+\]$/);
      expect(cgroupns.stdout.trim()).to.not.equal(readlinkSync('/proc/self/ns/cgroup'));
      if (info.privilege.kind === 'explicit-capabilities') {
        expect(caps).to.have.members(info.privilege.capabilities);
      }
    });

    it('starts a node in explicit-capabilities mode too', async () => {
      // Where privileged works, build the fallback from what a privileged container holds, so the
      // fallback path is proven on every engine, not only where it is needed.
      let mode = info.privilege;
      if (mode.kind === 'privileged') {
        const probe = await engine.containers.create(node(`kur-test-${run}-priv`, mode, { ports: [] }));
        await engine.containers.start(probe);
        const status = await engine.containers.exec(probe, { cmd: ['cat', '/proc/1/status'], check: true });
        await engine.containers.remove(probe, { force: true, volumes: true });
        const capabilities = capabilitiesFromMask(boundingSetOf(status.stdout)!);
        mode = {
          kind: 'explicit-capabilities',
          capabilities,
          missing: [],
          unknownToEngine: [],
          reason: 'test',
        };
      }
      const id = await engine.containers.create(node(`kur-test-${run}-explicit`, mode, { ports: [] }));
      await engine.containers.start(id);
      const seccomp = await engine.containers.exec(id, {
        cmd: ['grep', 'Seccomp:', '/proc/1/status'],
        check: true,
      });
      expect(seccomp.stdout).to.match(/Seccomp:\s+0/);
      // systempaths=unconfined: /proc/sys is not a read-only mount of its own.
      const mounts = await engine.containers.exec(id, { cmd: ['cat', '/proc/self/mountinfo'], check: true });
      expect(mounts.stdout).to.not.match(/ \/proc\/sys ro,/);
      await engine.containers.remove(id, { force: true, volumes: true });
    });

    describe('exec and files', () => {
      let box: string;
      before(async () => {
        box = await engine.containers.create({
          name: `kur-test-${run}-box`,
          image,
          labels: testLabels,
          cmd: ['sleep', '3600'],
        });
        await engine.containers.start(box);
      });

      it('separates stdout and stderr and reports the exit code', async () => {
        const result = await engine.containers.exec(box, {
          cmd: ['sh', '-c', 'echo out; echo err >&2; exit 7'],
        });
        expect(result).to.deep.equal({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
      });

      it('passes env, user and working directory', async () => {
        const result = await engine.containers.exec(box, {
          cmd: ['sh', '-c', 'echo "$GREETING"; id -u; pwd'],
          env: { GREETING: 'hello kur' },
          user: '1234',
          workingDir: '/tmp',
        });
        expect(result.stdout).to.equal('hello kur\n1234\n/tmp\n');
      });

      it('feeds stdin and closes it', async () => {
        const input = Buffer.concat([
          Buffer.from('line 1\n'),
          Buffer.alloc(200_000, 'x'),
          Buffer.from('\nend\n'),
        ]);
        const result = await engine.containers.exec(box, { cmd: ['sh', '-c', 'cat | wc -c'], stdin: input });
        expect(result.exitCode).to.equal(0);
        expect(Number(result.stdout.trim())).to.equal(input.length);
      });

      it('gives up after the timeout', async () => {
        const started = Date.now();
        const error = await kurFailure(
          engine.containers.exec(box, { cmd: ['sleep', '30'], timeoutMs: 1000 }),
        );
        expect(error.kind).to.equal('timeout');
        expect(Date.now() - started).to.be.lessThan(10_000);
      });

      it('throws a command error with the output when asked to check', async () => {
        const error = await kurFailure(
          engine.containers.exec(box, { cmd: ['sh', '-c', 'echo broken >&2; exit 3'], check: true }),
        );
        expect(error.kind).to.equal('command');
        expect(error.message).to.contain('exit code 3');
        expect(error.detail).to.contain('broken');
      });

      it('copies files in and out with modes and owners', async () => {
        await engine.containers.putArchive(
          box,
          '/tmp',
          packEntries([
            { type: 'directory', path: 'kur', mode: 0o700, uid: 1234, gid: 99 },
            { type: 'file', path: 'kur/secret', content: 'token\n', mode: 0o600, uid: 1234, gid: 99 },
            { type: 'file', path: 'kur/run.sh', content: '#!/bin/sh\necho ran\n', mode: 0o755 },
            { type: 'symlink', path: 'kur/link', target: 'secret' },
          ]),
        );
        const stat = await engine.containers.exec(box, {
          cmd: [
            'sh',
            '-c',
            'cd /tmp/kur && stat -c "%n %a %u %g" . secret run.sh && readlink link && ./run.sh',
          ],
          check: true,
        });
        expect(stat.stdout).to.equal('. 700 1234 99\nsecret 600 1234 99\nrun.sh 755 0 0\nsecret\nran\n');

        const back = await readEntries(await engine.containers.getArchive(box, '/tmp/kur'));
        const byPath = new Map(back.map((e) => [e.path.replace(/\/$/, ''), e]));
        expect(byPath.get('kur/secret')?.content.toString()).to.equal('token\n');
        expect((byPath.get('kur/secret')?.mode ?? 0) & 0o7777).to.equal(0o600);
        expect((byPath.get('kur')?.mode ?? 0) & 0o7777).to.equal(0o700);
        expect(byPath.get('kur/link')?.linkname).to.equal('secret');
        // Docker reports owners as stored; Podman's archive export chowns everything to the
        // container's root user, so owners are only checked inside the container there.
        if (engine.endpoint.provider === 'docker') {
          expect([byPath.get('kur/secret')?.uid, byPath.get('kur/secret')?.gid]).to.deep.equal([1234, 99]);
        }
      });

      it('writes config files into a container and reads one back', async () => {
        await writeFiles(engine, box, [
          { type: 'directory', path: '/etc/kur', mode: 0o755 },
          { type: 'file', path: '/etc/kur/config.yaml', content: 'kind: Cluster\n', mode: 0o600 },
        ]);
        expect((await readFile(engine, box, '/etc/kur/config.yaml')).toString()).to.equal('kind: Cluster\n');
        const notAFile = await kurFailure(readFile(engine, box, '/etc/kur'));
        expect(notAFile.message).to.contain('is not a regular file');
        const absent = await kurFailure(readFile(engine, box, '/etc/kur/absent'));
        expect(absent.kind).to.equal('notFound');
      });

      it('reads logs with stdout and stderr apart', async () => {
        const id = await engine.containers.create({
          name: `kur-test-${run}-logs`,
          image,
          labels: testLabels,
          cmd: ['sh', '-c', 'echo to-out; echo to-err >&2'],
        });
        await engine.containers.start(id);
        expect(await engine.containers.wait(id)).to.equal(0);
        expect(await engine.containers.logs(id)).to.deep.equal({ stdout: 'to-out\n', stderr: 'to-err\n' });
      });

      it('names the object and the operation when the engine refuses', async () => {
        const missing = await kurFailure(engine.containers.start(`kur-test-${run}-absent`));
        expect(missing.kind).to.equal('notFound');
        expect(missing.message).to.equal(`cannot start container "kur-test-${run}-absent"`);
        expect(missing.detail).to.match(/no such container|not found/i);
        const taken = await kurFailure(
          engine.containers.create({ name: `kur-test-${run}-box`, image, labels: testLabels }),
        );
        expect(taken.kind).to.equal('conflict');
        expect(taken.message).to.contain(`container "kur-test-${run}-box"`);
        const image404 = await kurFailure(engine.images.inspect(`kur.local/absent:${run}`));
        expect(image404.kind).to.equal('notFound');
      });

      it('stops and kills containers', async () => {
        const make = async (name: string): Promise<string> => {
          const id = await engine.containers.create({
            name,
            image,
            labels: testLabels,
            cmd: ['sleep', '3600'],
          });
          await engine.containers.start(id);
          return id;
        };
        const stopped = await make(`kur-test-${run}-stop`);
        // sleep as PID 1 ignores SIGTERM: stop ends it with SIGKILL after the timeout.
        await engine.containers.stop(stopped, { timeoutSeconds: 1 });
        expect((await engine.containers.inspect(stopped)).state.running).to.equal(false);
        await engine.containers.stop(stopped); // already stopped: not an error
        const killed = await make(`kur-test-${run}-kill`);
        await engine.containers.kill(killed, 'SIGKILL');
        expect(await engine.containers.wait(killed)).to.equal(137);
        const listed = await engine.containers.list({ labels: testLabels });
        expect(listed.map((c) => c.name)).to.include.members([
          `kur-test-${run}-stop`,
          `kur-test-${run}-kill`,
        ]);
        expect(listed.find((c) => c.name === `kur-test-${run}-box`)?.state).to.equal('running');
      });

      it('creates, lists and removes labelled volumes', async () => {
        const name = `kur-test-${run}-vol`;
        const created = await engine.volumes.create({
          name,
          labels: { ...testLabels, 'dev.kur.cluster': run },
        });
        expect(created).to.include({ name });
        expect((await engine.volumes.inspect(name)).labels).to.include({ 'dev.kur.cluster': run });
        const listed = await engine.volumes.list({ labels: { 'dev.kur.cluster': run } });
        expect(listed.map((v) => v.name)).to.deep.equal([name]);
        await engine.volumes.remove(name);
        expect((await kurFailure(engine.volumes.inspect(name))).kind).to.equal('notFound');
      });

      it('tags, saves and loads back an image', async () => {
        const tagged = `${image}-tagged`;
        await engine.images.tag(image, tagged);
        const original = await engine.images.inspect(image);
        expect((await engine.images.inspect(tagged)).id).to.equal(original.id);
        const saved = await engine.images.save([tagged]);
        await engine.images.remove(tagged);
        expect((await kurFailure(engine.images.inspect(tagged))).kind).to.equal('notFound');
        expect((await engine.images.inspect(image)).id).to.equal(original.id);
        expect(await engine.images.load(saved)).to.include(tagged);
        expect((await engine.images.inspect(tagged)).id).to.equal(original.id);
        await engine.images.remove(tagged);
      });
    });

    it('connects a container to the network with an alias and a static address, and disconnects it', async () => {
      const id = await engine.containers.create({
        name: `kur-test-${run}-attach`,
        image,
        labels: testLabels,
        cmd: ['sleep', '3600'],
      });
      await engine.containers.start(id);
      await engine.networks.connect(network, id, { aliases: ['attached'], ipv4Address: '10.213.7.50' });
      const attached = (await engine.containers.inspect(id)).networks[network];
      expect(attached?.ipv4Address).to.equal('10.213.7.50');
      expect(attached?.aliases).to.include('attached');
      expect(
        Object.values((await engine.networks.inspect(network)).containers).map((c) => c.name),
      ).to.include(`kur-test-${run}-attach`);
      await engine.networks.disconnect(network, id);
      expect((await engine.containers.inspect(id)).networks[network]).to.equal(undefined);
    });

    it('removes the network and reports it gone', async () => {
      for (const c of await engine.containers.list({ labels: testLabels })) {
        await engine.containers.remove(c.id, { force: true, volumes: true });
      }
      await engine.networks.remove(network);
      const gone = await kurFailure(engine.networks.inspect(network));
      expect(gone.kind).to.equal('notFound');
    });

    it('`kur info --output json` reports the engine', async () => {
      // --host wins over a DOCKER_HOST whose TLS files do not exist (dockerode reads them itself).
      const env = { ...process.env, DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_CERT_PATH: '/nonexistent' };
      const result = await runKur(['--host', target.host, '--output', 'json', 'info'], { env });
      expect(result.code, result.stderr).to.equal(0);
      const report = JSON.parse(result.stdout) as {
        endpoint: { source: string; address: string };
        engine: {
          provider: string;
          rootless: boolean;
          cgroupVersion: number;
          privilege: string;
          limits: object;
        };
      };
      expect(report.endpoint).to.include({ source: '--host', address: target.host });
      expect(report.engine).to.include({
        provider: target.expected.provider,
        rootless: target.expected.rootless,
        cgroupVersion: hostCgroupVersion,
        privilege: info.privilege.kind,
      });
      expect(report.engine.limits).to.deep.equal(info.limits);
    });
  });

  describe('afterwards', () => {
    it('leaves nothing with kur test or probe labels behind', async function () {
      this.timeout(60_000);
      expect(await leftovers(engine, run)).to.deep.equal([]);
    });
  });
});

describe('kur info without a reachable engine', () => {
  before(() => ensureBuilt());

  it('fails on a named endpoint that does not answer, naming it, with the engine exit code', async () => {
    const result = await runKur(['info'], {
      env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/kur.sock' },
    });
    expect(result.code).to.equal(4);
    expect(result.stderr).to.contain('DOCKER_HOST (unix:///nonexistent/kur.sock)');
    expect(result.stderr).to.contain('does not fall back');
    expect(result.stdout).to.equal('');
  });

  it('lists every socket tried when nothing answers', async function () {
    // An unprivileged user cannot reach the rootful socket and has no sockets of its own.
    if (process.getuid?.() !== 0) {
      console.log('      skipped: needs root, to run kur as a user (65534) that reaches no socket');
      this.skip();
    }
    const result = await runKur(['info'], {
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH, HOME: '/nonexistent' },
    });
    expect(result.code).to.equal(4);
    expect(result.stderr).to.contain('ERROR: no container engine answered');
    for (const place of [
      '/var/run/docker.sock: permission denied',
      '/run/user/65534/docker.sock: no socket there',
      '/nonexistent/.docker/run/docker.sock: no socket there',
      '/nonexistent/.docker/desktop/docker.sock: no socket there',
      '/run/user/65534/podman/podman.sock: no socket there',
      '/run/podman/podman.sock: no socket there',
    ]) {
      expect(result.stderr).to.contain(place);
    }
    expect(result.stderr).to.contain('HINT: start an engine');
  });
});
