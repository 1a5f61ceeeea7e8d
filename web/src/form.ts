import { useState, type ChangeEvent, type FormEvent } from "react";

import { useI18n } from "./i18n";
import { fieldErrors } from "./problems";
import type { Check } from "./validation";

/**
 * What every form here does alike: values kept as typed, local checks shown
 * once a field was left or the form sent, and the server's refusals shown
 * beside the field they name (or whole when they name none).
 *
 * `checks` runs on every render over the current values; `error` is the
 * last save's error; `onEdit` runs on every change, so a stale refusal (and
 * a spent idempotency key) can be cleared.
 */
export function useForm<K extends string>(
  initial: Record<K, string>,
  checks: (values: Record<K, string>) => Partial<Record<K, Check>>,
  { error, onEdit }: { error: unknown; onEdit: () => void },
) {
  const { t } = useI18n();
  const [values, setValues] = useState(initial);
  const [touched, setTouched] = useState<Partial<Record<K, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const local = checks(values);
  const failing = Object.values(local).some(Boolean);
  const server = fieldErrors(error, t);

  const errorOf = (name: K): string | null => {
    const check = local[name];
    if (check && (touched[name] || submitted)) return t(check.key, check.params);
    return server[name] ?? null;
  };

  /** The props of the input for `name`: its value, its handlers and its error. */
  const field = (name: K) => ({
    name,
    value: values[name],
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
      setValues((v) => ({ ...v, [name]: e.target.value }));
      onEdit();
    },
    onBlur: () => setTouched((seen) => ({ ...seen, [name]: true })),
    error: errorOf(name),
  });

  /** Sets a field from a control that is no input (a picker). */
  const set = (name: K, value: string) => {
    setValues((v) => ({ ...v, [name]: value }));
    onEdit();
  };

  /** A submit handler that sends the values once every local check passes. */
  const submit = (send: (values: Record<K, string>) => void) => (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (!failing) send(values);
  };

  return {
    field,
    set,
    submit,
    /** The form was sent with fields still wrong. */
    invalid: submitted && failing,
    /** The server refused the save for no field in particular. */
    generalError: error != null && Object.keys(server).length === 0,
  };
}
