// Virtual snodes and swarms: keys derived from a seed string so that a restart with the same
// seed gives the same identities (and so the same swarms) to clients that cached them.
import { blake2b, keyPairFromSeed, type KeyPair } from "./crypto.js";
import { evenSwarmIds, nearestSwarm, swarmSpaceValue } from "./swarm.js";

/** One virtual service node. */
export interface SnodeIdentity {
  readonly index: number;
  readonly keys: KeyPair;
  readonly pubkeyEd25519: string;
  readonly pubkeyX25519: string;
  /** Current swarm; changes only through {@link Topology.move}. */
  swarmId: bigint;
}

/** The whole virtual network: snodes grouped in swarms. */
export class Topology {
  readonly snodes: readonly SnodeIdentity[];
  /** Swarm ids sorted ascending. */
  readonly swarmIds: readonly bigint[];
  private readonly members = new Map<bigint, SnodeIdentity[]>();
  private readonly byEd = new Map<string, SnodeIdentity>();

  constructor(seed: string, snodeCount: number, swarmCount: number) {
    this.swarmIds = evenSwarmIds(swarmCount);
    const snodes: SnodeIdentity[] = [];
    for (let i = 0; i < snodeCount; i++) {
      const keys = keyPairFromSeed(blake2b(32, `session-devnet/snode/${seed}/${i}`));
      // Round-robin so every swarm gets members even when counts don't divide evenly.
      const swarmId = this.swarmIds[i % swarmCount]!;
      const sn: SnodeIdentity = {
        index: i,
        keys,
        pubkeyEd25519: Buffer.from(keys.edPk).toString("hex"),
        pubkeyX25519: Buffer.from(keys.xPk).toString("hex"),
        swarmId,
      };
      snodes.push(sn);
      this.byEd.set(sn.pubkeyEd25519, sn);
      const list = this.members.get(swarmId) ?? [];
      list.push(sn);
      this.members.set(swarmId, list);
    }
    this.snodes = snodes;
  }

  /** The swarm id responsible for a 66-hex Session ID (or 33/32-byte key). */
  swarmIdFor(pubkey: string | Uint8Array): bigint {
    return nearestSwarm(swarmSpaceValue(pubkey), this.swarmIds);
  }

  /** Members of a swarm, in snode index order. */
  membersOf(swarmId: bigint): readonly SnodeIdentity[] {
    return this.members.get(swarmId) ?? [];
  }

  /**
   * Moves a snode to another existing swarm (a swarm membership change). Returns false when the
   * move would leave its swarm empty (the devnet does not dissolve swarms) or the swarm is unknown.
   */
  move(sn: SnodeIdentity, swarmId: bigint): boolean {
    if (sn.swarmId === swarmId) return true;
    const from = this.members.get(sn.swarmId) ?? [];
    const to = this.members.get(swarmId);
    if (!to || from.length <= 1) return false;
    this.members.set(
      sn.swarmId,
      from.filter((m) => m !== sn),
    );
    to.push(sn);
    to.sort((a, b) => a.index - b.index);
    sn.swarmId = swarmId;
    return true;
  }

  /** Looks a snode up by Ed25519 public key hex. */
  byPubkey(edHex: string): SnodeIdentity | undefined {
    return this.byEd.get(edHex.toLowerCase());
  }
}
