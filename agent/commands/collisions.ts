import { collisionText, findCollisions, refuse } from '../convention/collision';
import type { Collision, DeriveOptions, Link } from '../convention/types';
import { classify, type Classified, type TargetLink } from '../discover/select';
import type { ConvergeResult } from './converge';

// Collisions are a property of the whole VM: a hotplug run for one link
// must see the links already there. They are judged against the links
// discovery listed anyway (a MAC parse each, no state read), and the links
// a target collides with join the run, since they lose what they hold too.

/** Every collision among these links (all of the VM's, as discovery listed them). */
export function collisionsAmong(links: readonly Link[], options: DeriveOptions): Map<string, Collision> {
  const desired = [];
  for (const link of links) {
    const c = classify(link, options);
    if (c.desired) desired.push(c.desired);
  }
  return findCollisions(desired);
}

/** `c` with its desired state refused when it collides. */
export function refused<T extends Classified>(c: T, collisions: ReadonlyMap<string, Collision>): T {
  const collision = collisions.get(c.link.name);
  return collision && c.desired ? { ...c, desired: refuse(c.desired, collision) } : c;
}

/** The targets and the links they collide with, each refused where it collides. */
export function withPartners(
  targets: readonly TargetLink[],
  links: readonly Link[],
  collisions: ReadonlyMap<string, Collision>,
  options: DeriveOptions,
): TargetLink[] {
  const names = new Set(targets.map((t) => t.link.name));
  const partners = new Set(targets.flatMap((t) => collisions.get(t.link.name)?.ifnames ?? []).filter((n) => !names.has(n)));
  const more = links.filter((l) => partners.has(l.name)).map((l) => classify(l, options) as TargetLink);
  return [...targets, ...more].map((t) => refused(t, collisions));
}

/** A converge result with every colliding link failed: the one line names the links and the address. */
export function failCollided(result: ConvergeResult, collisions: ReadonlyMap<string, Collision>): ConvergeResult {
  if (collisions.size === 0) return result;
  const interfaces = result.interfaces.map((r) => {
    const collision = collisions.get(r.ifname);
    return collision && r.ok ? { ...r, ok: false, error: collisionText(collision) } : r;
  });
  return { ...result, interfaces };
}
