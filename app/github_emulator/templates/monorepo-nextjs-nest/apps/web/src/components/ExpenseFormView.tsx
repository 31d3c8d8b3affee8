"use client";

import { useState, type FormEvent } from "react";

import { ApiError, type Group, type NewExpense } from "@/lib/api";
import { checkExpenseForm, emptyExpenseForm, type ExpenseForm, type FormErrors } from "@/lib/forms";

interface Props {
  group: Group;
  onAdd: (expense: NewExpense) => Promise<void>;
}

// The API names its own fields; the form asks for an amount in dollars.
const FORM_FIELDS: Record<string, keyof ExpenseForm> = {
  description: "description",
  amountCents: "amount",
  paidBy: "paidBy",
  splitAmong: "splitAmong",
};

export function ExpenseFormView({ group, onAdd }: Props) {
  const [form, setForm] = useState<ExpenseForm>(() => emptyExpenseForm(group));
  const [errors, setErrors] = useState<FormErrors<ExpenseForm>>({});
  const [busy, setBusy] = useState(false);

  function toggle(member: string) {
    const splitAmong = form.splitAmong.includes(member)
      ? form.splitAmong.filter((other) => other !== member)
      : [...form.splitAmong, member];
    setForm({ ...form, splitAmong });
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const check = checkExpenseForm(form, group);
    setErrors(check.ok ? {} : check.errors);
    if (!check.ok) return;
    setBusy(true);
    try {
      await onAdd(check.request);
      setForm(emptyExpenseForm(group));
    } catch (err) {
      const field = err instanceof ApiError ? FORM_FIELDS[err.field ?? ""] : undefined;
      setErrors({ [field ?? "description"]: (err as Error).message });
    } finally {
      setBusy(false);
    }
  }

  const error = (field: keyof ExpenseForm) =>
    errors[field] && <span className="error"> {errors[field]}</span>;

  return (
    <form onSubmit={submit}>
      <h2>Add an expense</h2>
      <label>
        What for
        <input
          value={form.description}
          onChange={(e) => setForm({ ...form, description: e.target.value })}
        />
        {error("description")}
      </label>
      <label>
        Amount
        <input
          inputMode="decimal"
          placeholder="12.50"
          value={form.amount}
          onChange={(e) => setForm({ ...form, amount: e.target.value })}
        />
        {error("amount")}
      </label>
      <label>
        Paid by
        <select value={form.paidBy} onChange={(e) => setForm({ ...form, paidBy: e.target.value })}>
          {group.members.map((member) => (
            <option key={member}>{member}</option>
          ))}
        </select>
        {error("paidBy")}
      </label>
      <fieldset>
        <legend>Shared by</legend>
        {group.members.map((member) => (
          <label key={member}>
            <input
              type="checkbox"
              checked={form.splitAmong.includes(member)}
              onChange={() => toggle(member)}
            />{" "}
            {member}
          </label>
        ))}
        {error("splitAmong")}
      </fieldset>
      <button type="submit" disabled={busy}>
        Add
      </button>
    </form>
  );
}
