// What the signed-in caller may do, from GET /api/v1/me: the UI hides what
// the server would refuse. The server still decides; this only spares the
// user a refusal.

import { useQuery } from "@tanstack/react-query";

import { api, type Me, type Scope } from "./api";

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

/** Whether `me` holds `needed` or a wider scope. */
export function allows(me: Me | undefined, needed: Scope): boolean {
  if (!me?.scope) return false;
  return RANK[me.scope] >= RANK[needed];
}

export function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: api.me, staleTime: 60_000 });
}

/** The caller is limited to some garages (it cannot create one). */
export function useLimited(): boolean {
  const { data } = useMe();
  return data?.garages != null;
}

/**
 * Whether the caller may do what needs `needed`. Nothing is offered until
 * the server has said who the caller is (no button shown, then taken
 * away); if it cannot say, reads and writes are offered and the server
 * refuses plainly if it must.
 */
export function useCan(needed: Scope): boolean {
  const { data, isError } = useMe();
  if (data === undefined) return isError && needed !== "admin";
  return allows(data, needed);
}
