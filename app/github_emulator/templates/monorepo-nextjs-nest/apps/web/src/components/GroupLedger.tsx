"use client";

import { useEffect, useReducer } from "react";

import type { NewExpense } from "@/lib/api";
import { initialLedger, ledgerReducer, totalSpent } from "@/lib/ledger-state";
import { describeBalance, formatCents } from "@/lib/money";
import { api } from "@/components/api";
import { ExpenseFormView } from "@/components/ExpenseFormView";

export function GroupLedger({ groupId }: { groupId: number }) {
  const [ledger, dispatch] = useReducer(ledgerReducer, initialLedger);

  useEffect(() => {
    Promise.all([api.group(groupId), api.expenses(groupId), api.balances(groupId)]).then(
      ([group, expenses, balances]) => dispatch({ type: "loaded", group, expenses, balances }),
      (err: Error) => dispatch({ type: "loadFailed", message: err.message }),
    );
  }, [groupId]);

  async function add(request: NewExpense) {
    const expense = await api.addExpense(groupId, request);
    dispatch({ type: "expenseAdded", expense, balances: await api.balances(groupId) });
  }

  async function remove(expenseId: number) {
    dispatch({ type: "removeStarted", expenseId });
    try {
      await api.removeExpense(groupId, expenseId);
      dispatch({ type: "removeSucceeded", expenseId, balances: await api.balances(groupId) });
    } catch (err) {
      dispatch({ type: "removeFailed", expenseId, message: (err as Error).message });
    }
  }

  if (ledger.status === "loading") return <p>Loading…</p>;
  if (ledger.group === null) return <p className="error">{ledger.error}</p>;

  return (
    <>
      <h1>{ledger.group.name}</h1>
      <h2>Balances</h2>
      <ul>
        {ledger.balances.map((balance) => (
          <li key={balance.member}>{describeBalance(balance)}</li>
        ))}
      </ul>
      <h2>Expenses ({formatCents(totalSpent(ledger.expenses))} in all)</h2>
      {ledger.error && <p className="error">{ledger.error}</p>}
      <ul>
        {ledger.expenses.map((expense) => {
          const removing = ledger.removing.includes(expense.id);
          return (
            <li key={expense.id} className={removing ? "removing" : undefined}>
              {expense.description}: {formatCents(expense.amountCents)}, paid by {expense.paidBy}{" "}
              <button type="button" disabled={removing} onClick={() => remove(expense.id)}>
                Remove
              </button>
            </li>
          );
        })}
      </ul>
      <ExpenseFormView group={ledger.group} onAdd={add} />
    </>
  );
}
