"use client";

import { type FormEvent, useState } from "react";

import type { NewExpense } from "../lib/types";
import { type ExpenseDraft, validateExpense } from "../lib/validation";

interface Props {
  members: string[];
  /** Resolves to whether the expense was saved: the form clears only then. */
  onSubmit: (expense: NewExpense) => Promise<boolean>;
}

export function ExpenseForm({ members, onSubmit }: Props) {
  const empty: ExpenseDraft = {
    description: "",
    amount: "",
    paidBy: members[0] ?? "",
    splitBetween: members,
  };
  const [draft, setDraft] = useState<ExpenseDraft>(empty);
  const [errors, setErrors] = useState<Partial<Record<keyof ExpenseDraft, string>>>({});

  function toggle(member: string, shares: boolean) {
    const others = draft.splitBetween.filter((name) => name !== member);
    setDraft({ ...draft, splitBetween: shares ? [...others, member] : others });
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = validateExpense(draft, members);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    if (await onSubmit(result.value)) setDraft(empty);
  }

  return (
    <section>
      <h2>Add an expense</h2>
      <form onSubmit={submit} noValidate>
        <label>
          What for
          <input
            value={draft.description}
            onChange={(e) => setDraft({ ...draft, description: e.target.value })}
          />
          {errors.description && <span className="error">{errors.description}</span>}
        </label>
        <label>
          Amount
          <input
            inputMode="decimal"
            placeholder="12.50"
            value={draft.amount}
            onChange={(e) => setDraft({ ...draft, amount: e.target.value })}
          />
          {errors.amount && <span className="error">{errors.amount}</span>}
        </label>
        <label>
          Paid by
          <select
            value={draft.paidBy}
            onChange={(e) => setDraft({ ...draft, paidBy: e.target.value })}
          >
            {members.map((member) => (
              <option key={member}>{member}</option>
            ))}
          </select>
          {errors.paidBy && <span className="error">{errors.paidBy}</span>}
        </label>
        <fieldset>
          <legend>Split between</legend>
          {members.map((member) => (
            <label key={member}>
              <input
                type="checkbox"
                checked={draft.splitBetween.includes(member)}
                onChange={(e) => toggle(member, e.target.checked)}
              />
              {member}
            </label>
          ))}
          {errors.splitBetween && <span className="error">{errors.splitBetween}</span>}
        </fieldset>
        <button type="submit">Add</button>
      </form>
    </section>
  );
}
