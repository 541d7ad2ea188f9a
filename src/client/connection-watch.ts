/**
 * Whether a failed call provably never reached gatehouse, the one case failOpen may act on. A status code
 * cannot say: UNAVAILABLE also comes from a connection that dropped after the request was sent, and from a
 * proxy answering for gatehouse. The channel can: grpc-js sends a call only on a READY channel (an HTTP/2
 * connection whose peer settings arrived), so a call during which the channel was never READY, from just
 * before it started to its end, was never sent. grpc-js notifies state watchers synchronously on every
 * change, so no READY spell between two calls of ours goes unseen.
 */
import { connectivityState, type ChannelInterface } from '@grpc/grpc-js';

export interface ConnectionWatch {
  /**
   * Call right before starting a call. The returned function, called once the call has failed, is true only
   * if the channel was never READY in between.
   */
  beforeCall(): () => boolean;
}

export function watchConnections(channel: ChannelInterface): ConnectionWatch {
  let readySpells = 0;
  const watch = (): void => {
    const state = channel.getConnectivityState(false);
    if (state === connectivityState.SHUTDOWN) return;
    // No deadline: no timer, nothing that keeps the process alive; the watcher ends with the channel.
    channel.watchConnectivityState(state, Infinity, () => {
      if (channel.getConnectivityState(false) === connectivityState.READY) readySpells += 1;
      watch();
    });
  };
  watch();
  return {
    beforeCall() {
      const readyAtStart = channel.getConnectivityState(false) === connectivityState.READY;
      const spellsAtStart = readySpells;
      return () => !readyAtStart && readySpells === spellsAtStart;
    },
  };
}
