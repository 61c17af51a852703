/**
 * Subscriptions to a user's own data (order.subscribe: markets, asset.subscribe: assets): per user,
 * the connections authenticated as that user and the ids (market or asset indexes) each follows.
 * A subscribe replaces the connection's whole set, as in the original.
 */
import type { Session } from './session.js';

export class UserSubscriptions {
  private readonly byUser = new Map<number, Map<Session, ReadonlySet<number>>>();
  private sessions = 0;

  /** Replaces what `session` (authenticated as `session.user`) follows; an empty set drops it. */
  set(session: Session, ids: ReadonlySet<number>): void {
    this.drop(session);
    if (ids.size === 0 || session.user === 0) return;
    let followers = this.byUser.get(session.user);
    if (followers === undefined) {
      followers = new Map();
      this.byUser.set(session.user, followers);
    }
    followers.set(session, ids);
    this.sessions++;
  }

  /** Forgets what `session` follows (before its user changes, and when it closes). */
  drop(session: Session): void {
    const followers = this.byUser.get(session.user);
    if (followers === undefined || !followers.delete(session)) return;
    this.sessions--;
    if (followers.size === 0) this.byUser.delete(session.user);
  }

  /** What `session` follows (empty when nothing). */
  of(session: Session): ReadonlySet<number> {
    return this.byUser.get(session.user)?.get(session) ?? EMPTY;
  }

  /** The connections of `user` and what each follows; none when nobody follows anything of that user. */
  followersOf(user: number): ReadonlyMap<Session, ReadonlySet<number>> | undefined {
    return this.byUser.get(user);
  }

  /** Connections that follow something. */
  get size(): number {
    return this.sessions;
  }
}

const EMPTY: ReadonlySet<number> = new Set();
