import type { Link } from '../../agent/convention/types';
import { diffSnapshots, linksToApply, snapshotOf, type LinkChange } from '../../agent/watch/diff';

const link = (ifindex: number, name: string, mac = `0a:b3:ec:00:00:${ifindex.toString(16).padStart(2, '0')}`, up = false): Link => ({
  name,
  ifindex,
  mac,
  type: 1,
  up,
  group: 0,
});

const summary = (changes: LinkChange[]) =>
  changes.map((c) => (c.kind === 'changed' ? `${c.kind} ${c.before.name}->${c.link.name}${c.macChanged ? ' mac' : ''}` : `${c.kind} ${c.link.name}`));

describe('diffSnapshots', () => {
  test.each<[string, Link[], Link[], string[]]>([
    ['nothing changed', [link(2, 'eth0')], [link(2, 'eth0')], []],
    ['a link appears', [link(2, 'eth0')], [link(2, 'eth0'), link(3, 'eth1')], ['added eth1']],
    ['a link goes', [link(2, 'eth0'), link(3, 'eth1')], [link(3, 'eth1')], ['removed eth0']],
    ['a rename keeps the ifindex', [link(2, 'eth0')], [link(2, 'uplink')], ['changed eth0->uplink']],
    ['a MAC change', [link(2, 'eth0')], [link(2, 'eth0', '0a:b3:ec:00:00:99')], ['changed eth0->eth0 mac']],
    ['up/down is not a change', [link(2, 'eth0')], [link(2, 'eth0', undefined, true)], []],
    // The name moves to a new link: the old one went, a new one came.
    ['a name reused by a new link', [link(2, 'eth0')], [link(7, 'eth0')], ['removed eth0', 'added eth0']],
    ['ordered by ifindex', [link(5, 'b')], [link(3, 'a'), link(4, 'c')], ['added a', 'added c', 'removed b']],
  ])('%s', (_what, before, after, expected) => {
    expect(summary(diffSnapshots(snapshotOf(before), snapshotOf(after)))).toEqual(expected);
  });

  test('from an empty snapshot every link is added (the first pass)', () => {
    const links = [link(1, 'lo', '00:00:00:00:00:00'), link(2, 'eth0')];
    expect(summary(diffSnapshots(new Map(), snapshotOf(links)))).toEqual(['added lo', 'added eth0']);
  });
});

test('linksToApply: the present side of additions and changes, never removals', () => {
  const changes = diffSnapshots(snapshotOf([link(2, 'eth0'), link(3, 'eth1')]), snapshotOf([link(3, 'renamed'), link(4, 'eth2')]));
  expect(linksToApply(changes).map((l) => l.name)).toEqual(['renamed', 'eth2']);
});
