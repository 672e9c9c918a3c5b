import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { V2EntryChecker, v2HeaderProblem } from '../../src/core/catalog/manifestV2';
import { chainLimits, fullChain, nextChain } from '../../src/core/model/chain';

const id = (n: number): string => `2026010${n}T000000Z-${String(n).padStart(16, '0')}`;
const hash = 'c'.repeat(64);

function header(): Record<string, unknown> {
  let chain = fullChain(id(1));
  chain = nextChain(chain, id(2), true);
  chain = nextChain(chain, id(3), false);
  return { id: id(3), chain, needs: [id(1), id(2), id(3)], renames: [], added: 1, changedFiles: 2, removed: 3, uploadedBytes: 4 };
}

function problem(change: (m: Record<string, unknown>) => void): string | undefined {
  const m = structuredClone(header());
  change(m);
  return v2HeaderProblem(m);
}

describe('manifest version 2 fields, read as hostile input', () => {
  it('accepts what a writer makes', () => {
    assert.equal(v2HeaderProblem(header()), undefined);
    assert.equal(v2HeaderProblem({ ...header(), renames: undefined }), undefined);
    assert.equal(v2HeaderProblem({ id: id(1), chain: fullChain(id(1)), needs: [id(1)], added: 0, changedFiles: 0, removed: 0, uploadedBytes: 0 }), undefined);
  });

  it('refuses needs that are out of order, outside the chain, newer than the snapshot, or not ending with it', () => {
    assert.match(problem((m) => (m.needs = [id(2), id(1), id(3)])) ?? '', /oldest first/);
    assert.match(problem((m) => (m.needs = [id(1), id(1), id(3)])) ?? '', /oldest first/);
    assert.match(problem((m) => (m.needs = [id(0), id(3)])) ?? '', /outside the chain/);
    assert.match(problem((m) => (m.needs = [id(1), id(3), id(4)])) ?? '', /outside the chain/);
    assert.match(problem((m) => (m.needs = [id(1), id(2)])) ?? '', /end with this snapshot/);
    assert.match(problem((m) => (m.needs = ['../../x'])) ?? '', /list of ids/);
    assert.match(problem((m) => (m.needs = [])) ?? '', /list of ids/);
    assert.match(problem((m) => (m.needs = Array.from({ length: chainLimits.maxChainLength + 1 }, (_, i) => id(i)))) ?? '', /list of ids/);
  });

  it('refuses a chain that does not hold together', () => {
    assert.match(problem((m) => ((m.chain as { archives: string[] }).archives = [id(1), id(3), id(2)])) ?? '', /oldest first/);
    assert.match(problem((m) => ((m.chain as { archives: string[] }).archives = [id(1), id(2)])) ?? '', /end with this snapshot/);
    assert.match(problem((m) => ((m.chain as { full: string }).full = id(2))) ?? '', /chain.full/);
    assert.match(problem((m) => ((m.chain as { level: number }).level = 5)) ?? '', /chain.level/);
    assert.match(problem((m) => ((m.chain as { previous: string }).previous = id(1))) ?? '', /chain.previous/);
    assert.match(problem((m) => ((m.chain as { renamed: string[] }).renamed = [id(7)])) ?? '', /outside the chain/);
    assert.match(problem((m) => (m.chain = 'x')) ?? '', /"chain" is missing/);
  });

  it('refuses malformed renames and counts', () => {
    assert.match(problem((m) => (m.renames = [['a']])) ?? '', /renames/);
    assert.match(problem((m) => (m.renames = [['a', 'x'.repeat(20_000)]])) ?? '', /renames/);
    assert.match(problem((m) => (m.renames = [['a', 'b']])) ?? '', /chain.renamed/);
    assert.match(problem((m) => (m.renames = Array.from({ length: chainLimits.maxRenames + 1 }, () => ['a', 'b']))) ?? '', /renames/);
    assert.match(problem((m) => (m.removed = -1)) ?? '', /"removed"/);
    assert.match(problem((m) => delete m.uploadedBytes) ?? '', /"uploadedBytes"/);
  });

  it('refuses an entry naming an archive the snapshot does not need, and chunks that do not add up', () => {
    const check = new V2EntryChecker({ needs: [id(1), id(3)] });
    const file = { path: 'a', type: 'file', size: 10, mtime: 0, mode: 420, sha256: hash };
    assert.equal(check.problem({ ...file, in: id(1) }), undefined);
    assert.equal(check.problem({ ...file, in: id(1), at: 'old/a' }), undefined);
    assert.match(check.problem({ ...file, in: id(2) }) ?? '', /"in"/);
    assert.match(check.problem({ ...file, in: id(4) }) ?? '', /"in"/);
    assert.match(check.problem({ ...file, at: 'old/a' }) ?? '', /"at"/);
    assert.equal(check.problem({ ...file, in: id(1), at: 'old/lat\\xE9', atBytes: Buffer.from('old/lat\xe9', 'latin1').toString('base64') }), undefined);
    assert.match(check.problem({ ...file, in: id(1), at: 'old/a', atBytes: Buffer.from('old/a').toString('base64') }) ?? '', /"atBytes"/);
    assert.equal(check.problem({ ...file, chunks: [[hash, 4, id(1)], [hash, 6, id(3)]] }), undefined);
    assert.match(check.problem({ ...file, chunks: [[hash, 4, id(1)], [hash, 5, id(3)]] }) ?? '', /add up/);
    assert.match(check.problem({ ...file, chunks: [[hash, 10, id(2)]] }) ?? '', /archive is not one/);
    assert.match(check.problem({ ...file, chunks: [['C'.repeat(64), 10, id(1)]] }) ?? '', /malformed/);
    assert.match(check.problem({ ...file, chunks: [[hash, 0, id(1)], [hash, 10, id(1)]] }) ?? '', /malformed/);
    assert.match(check.problem({ ...file, type: 'directory', chunks: [] }) ?? '', /malformed/);
    const many = new V2EntryChecker({ needs: [id(1)] });
    const per = chainLimits.maxChunksPerFile;
    const big = { ...file, size: per, chunks: Array.from({ length: per }, () => [hash, 1, id(1)]) };
    assert.match(many.problem({ ...big, chunks: [...big.chunks, [hash, 1, id(1)]], size: per + 1 }) ?? '', /malformed/);
    for (let i = 0; i < chainLimits.maxTotalChunks / per; i++) assert.equal(many.problem(big), undefined);
    assert.match(many.problem({ ...file, size: 1, chunks: [[hash, 1, id(1)]] }) ?? '', /too many chunks/);
  });
});
