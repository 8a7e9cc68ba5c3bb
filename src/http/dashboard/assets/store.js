// The page's copy of the queue: every work order by id, loaded once in pages
// and then kept current by the WebSocket's events (each event refetches the
// one work order it names — no polling).

import { api } from './api.js';

const PAGE = 1000; // the API's largest page

export const store = {
  /** id → work order (the API's JSON; the detail form carries `runs`). */
  orders: new Map(),
  /** Whether the whole list has been read at least once. */
  loaded: false,
  loading: null,
  error: null,
  listeners: new Set(),
  /** Ids with a refetch in flight or asked for again meanwhile. */
  inflight: new Map(),
};

/** `fn(id | null)` on every change (null: many changed). Returns the unsubscriber. */
export function subscribe(fn) {
  store.listeners.add(fn);
  return () => store.listeners.delete(fn);
}

function emit(id) {
  for (const fn of store.listeners) fn(id);
}

export function upsert(wo) {
  store.orders.set(wo.id, wo);
  emit(wo.id);
}

/**
 * Reads every work order, page by page, newest first; listeners hear after
 * each page so the first rows show at once. A second call while one runs
 * shares it.
 */
export function loadAll() {
  if (store.loading) return store.loading;
  store.loading = (async () => {
    const seen = new Set();
    const totals = new Set();
    try {
      for (let offset = 0; ; offset += PAGE) {
        const page = await api('GET', `/api/v1/work-orders?limit=${PAGE}&offset=${offset}`);
        totals.add(page.total);
        for (const wo of page.items) {
          seen.add(wo.id);
          const old = store.orders.get(wo.id);
          // Keep a fetched detail's runs until the next detail refetch.
          store.orders.set(wo.id, old && old.runs && old.updatedAt === wo.updatedAt ? old : wo);
        }
        store.loaded = true;
        store.error = null;
        emit(null);
        if (!page.hasMore || page.items.length === 0) break;
      }
      // Drop what was purged meanwhile — unless the queue changed while it
      // was read, when offsets shift and a skipped one would look purged.
      if (totals.size === 1) {
        for (const id of [...store.orders.keys()]) if (!seen.has(id)) store.orders.delete(id);
      }
      emit(null);
    } catch (e) {
      store.error = e;
      emit(null);
    } finally {
      store.loading = null;
    }
  })();
  return store.loading;
}

/**
 * Fetches one work order (with its runs) into the store. Events come in
 * bursts (updated + run_started together): one request per id at a time, and
 * one more if asked again meanwhile.
 */
export function refresh(id) {
  const cur = store.inflight.get(id);
  if (cur) { cur.again = true; return cur.promise; }
  const entry = { again: false, promise: null };
  entry.promise = (async () => {
    try {
      do {
        entry.again = false;
        try {
          upsert(await api('GET', `/api/v1/work-orders/${encodeURIComponent(id)}`));
        } catch (e) {
          // Purged: gone from the queue too (and the caller hears why).
          if (e.status === 404 && store.orders.delete(id)) emit(id);
          throw e;
        }
      } while (entry.again);
    } finally {
      store.inflight.delete(id);
    }
  })();
  store.inflight.set(id, entry);
  return entry.promise;
}
