import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState, type KeyboardEvent } from "react";

import { api, type Garage } from "../api";
import { useI18n } from "../i18n";

interface Props {
  id: string;
  label: string;
  /** The chosen garage's id, or null. */
  value: number | null;
  onChange: (garage: Garage) => void;
  /** How many places a garage needs to be chosen (1 for one vehicle). */
  needs?: number;
  /** A garage chosen whatever its room: the one the vehicle is already in. */
  current?: number;
  /** A garage that may not be chosen: the one vehicles leave. */
  exclude?: number;
  invalid?: boolean;
  describedBy?: string;
}

const SHOWN = 20;

/** Free places, or null for a garage without a limit. */
const free = (g: Garage) => (g.capacity === null ? null : g.capacity - g.vehicle_count);

/**
 * A garage chosen by typing part of its name: the server searches every
 * garage (accents and case aside), so a fleet of any size fits. A combobox
 * with a listbox popup (WAI-ARIA 1.2): arrows move, Enter picks, Escape
 * closes; garages without room are listed, disabled, with the reason.
 */
export function GaragePicker({
  id,
  label,
  value,
  onChange,
  needs = 1,
  current,
  exclude,
  invalid,
  describedBy,
}: Props) {
  const { t } = useI18n();
  const listId = useId();
  // What the user typed; null shows the chosen garage's name.
  const [draft, setDraft] = useState<string | null>(null);
  // The garage picked here, shown at once, before its read returns.
  const [picked, setPicked] = useState<Garage | null>(null);
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const chosen = useQuery({
    queryKey: ["garage", value],
    queryFn: () => api.getGarage(value as number),
    enabled: value !== null,
  });
  // Ask the server once typing pauses.
  useEffect(() => {
    const timer = setTimeout(() => setQuery((draft ?? "").trim()), 200);
    return () => clearTimeout(timer);
  }, [draft]);
  const found = useQuery({
    queryKey: ["garages", { q: query, sort: "name", limit: SHOWN }],
    queryFn: () => api.listGarages({ q: query, sort: "name", limit: SHOWN }),
    enabled: open,
  });
  const options = (found.data?.items ?? []).filter((g) => g.id !== exclude);
  const refusal = (g: Garage): string | null => {
    if (g.id === current) return null;
    const room = free(g);
    if (room === null || room >= needs) return null;
    return room <= 0 ? t("picker.full") : t("picker.tooSmall", { count: room });
  };
  const pick = (g: Garage) => {
    if (refusal(g)) return;
    onChange(g);
    setPicked(g);
    setDraft(null);
    setOpen(false);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) {
        setOpen(true);
        setActive(0);
        return;
      }
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((a) => Math.max(0, Math.min(options.length - 1, a + step)));
    } else if (event.key === "Enter" && open) {
      event.preventDefault();
      // The list still answers what was typed before: wait for the new one.
      if ((draft ?? "").trim() !== query || found.isFetching) return;
      const g = options[active];
      if (g) pick(g);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      setOpen(false);
      setDraft(null);
    }
  };
  const optionId = (g: Garage) => `${listId}-${g.id}`;
  const activeOption = open ? options[active] : undefined;
  return (
    <div className="picker">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        role="combobox"
        autoComplete="off"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={activeOption ? optionId(activeOption) : undefined}
        aria-invalid={invalid || undefined}
        aria-describedby={describedBy}
        placeholder={t("picker.placeholder")}
        value={draft ?? (picked?.id === value ? picked.name : chosen.data?.name) ?? ""}
        onChange={(e) => {
          setDraft(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => {
          setOpen(false);
          setDraft(null);
        }}
        onKeyDown={onKeyDown}
      />
      <ul id={listId} role="listbox" aria-label={label} hidden={!open} className="picker-list">
        {open && found.isPending && <li className="picker-note">{t("state.loading")}</li>}
        {open && found.isSuccess && options.length === 0 && (
          <li className="picker-note">{t("picker.none")}</li>
        )}
        {options.map((g, i) => {
          const why = refusal(g);
          const room = free(g);
          return (
            <li
              key={g.id}
              id={optionId(g)}
              role="option"
              aria-selected={g.id === value}
              aria-disabled={why !== null || undefined}
              className={i === active ? "active" : undefined}
              // Before the input's blur, so the click is not lost.
              onMouseDown={(e) => {
                e.preventDefault();
                pick(g);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <span>{g.name}</span>
              <small>
                {why ??
                  (room === null
                    ? t("picker.unlimited")
                    : t("picker.room", { held: g.vehicle_count, capacity: g.capacity ?? 0 }))}
              </small>
            </li>
          );
        })}
        {open && (found.data?.next_cursor ?? null) !== null && (
          <li className="picker-note">{t("picker.more")}</li>
        )}
      </ul>
    </div>
  );
}
