// What a node's agent is to the others, as the heartbeats tell it (src/heartbeat computes it;
// src/cluster and src/daemon decide on it); a leaf.

/**
 * unknown: not heard yet and the start is more recent than the timeout; up: heard within the
 * timeout on some heartbeat; down: not heard for longer than the timeout on every heartbeat
 * (a peer is down only when it is down on every heartbeat); left: said goodbye (graceful
 * stop) and not heard since.
 */
export type PeerState = 'unknown' | 'up' | 'down' | 'left';
