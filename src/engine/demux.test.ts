import { expect } from 'chai';
import { Demuxer, frame } from './demux.js';

function run(chunks: Buffer[]): { stdout: string; stderr: string; rest: number } {
  const out = { stdout: '', stderr: '' };
  const demux = new Demuxer((stream, data) => (out[stream] += data.toString()));
  for (const chunk of chunks) demux.push(chunk);
  const rest = demux.end().length;
  return { ...out, rest };
}

describe('stream demultiplexing', () => {
  it('separates stdout and stderr frames', () => {
    const data = Buffer.concat([
      frame('stdout', 'out 1\n'),
      frame('stderr', 'err\n'),
      frame('stdout', 'out 2\n'),
    ]);
    expect(run([data])).to.deep.equal({ stdout: 'out 1\nout 2\n', stderr: 'err\n', rest: 0 });
  });

  it('copes with frames split at every byte', () => {
    const data = Buffer.concat([frame('stderr', 'a'.repeat(300)), frame('stdout', 'b')]);
    const bytes = [...data].map((b) => Buffer.from([b]));
    expect(run(bytes)).to.deep.equal({ stdout: 'b', stderr: 'a'.repeat(300), rest: 0 });
  });

  it('passes a TTY stream (no headers) through as stdout', () => {
    expect(run([Buffer.from('hello '), Buffer.from('tty')])).to.deep.equal({
      stdout: 'hello tty',
      stderr: '',
      rest: 0,
    });
    expect(run([Buffer.from('ab')])).to.deep.equal({ stdout: 'ab', stderr: '', rest: 0 });
  });

  it('reports a truncated last frame', () => {
    const data = frame('stdout', 'complete');
    expect(run([data, data.subarray(0, 10)])).to.deep.equal({ stdout: 'complete', stderr: '', rest: 10 });
  });
});
