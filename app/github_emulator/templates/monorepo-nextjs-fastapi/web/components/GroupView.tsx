"use client";

import { useEffect, useReducer } from "react";

import { ApiError, createKittyApi } from "../lib/api";
import { describeBalance, describeTransfer } from "../lib/balances";
import { API_BASE } from "../lib/config";
import { groupReducer, initialGroupState } from "../lib/groupState";
import { formatCents } from "../lib/money";
import type { NewExpense } from "../lib/types";
import { ExpenseForm } from "./ExpenseForm";

const api = createKittyApi(API_BASE);

function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : String(error);
}

export function GroupView({ groupId }: { groupId: number }) {
  const [state, dispatch] = useReducer(groupReducer, initialGroupState);

  useEffect(() => {
    let current = true;
    Promise.all([api.getGroup(groupId), api.listExpenses(groupId), api.getBalances(groupId)])
      .then(([group, expenses, sheet]) => {
        if (current) dispatch({ type: "loaded", group, expenses, sheet });
      })
      .catch((error: unknown) => {
        if (current) dispatch({ type: "failed", error: messageOf(error) });
      });
    return () => {
      current = false;
    };
  }, [groupId]);

  async function addExpense(body: NewExpense): Promise<boolean> {
    try {
      const expense = await api.addExpense(groupId, body);
      dispatch({ type: "expenseAdded", expense, sheet: await api.getBalances(groupId) });
      return true;
    } catch (error) {
      dispatch({ type: "failed", error: messageOf(error) });
      return false;
    }
  }

  if (state.status === "loading") return <p>Loading…</p>;
  if (state.status === "failed" || state.group === null) {
    return <p className="error">{state.error}</p>;
  }
  const { group, expenses, sheet } = state;
  return (
    <>
      <h1>{group.name}</h1>
      <p>{group.members.join(", ")}</p>
      {state.error && <p className="error">{state.error}</p>}
      <ExpenseForm members={group.members} onSubmit={addExpense} />
      <section>
        <h2>Balances</h2>
        <ul>
          {sheet?.balances.map((balance) => (
            <li key={balance.member}>{describeBalance(balance)}</li>
          ))}
        </ul>
        <h3>To settle up</h3>
        {sheet && sheet.settlements.length > 0 ? (
          <ul>
            {sheet.settlements.map((transfer) => (
              <li key={`${transfer.debtor}-${transfer.creditor}`}>{describeTransfer(transfer)}</li>
            ))}
          </ul>
        ) : (
          <p>Everyone is even.</p>
        )}
      </section>
      <section>
        <h2>Expenses</h2>
        {expenses.length === 0 && <p>No expenses yet.</p>}
        <ul>
          {expenses.map((expense) => (
            <li key={expense.id}>
              {expense.description}:{" "}
              <span className="amount">{formatCents(expense.amount_cents)}</span> paid by{" "}
              {expense.paid_by}, shared by {Object.keys(expense.shares).join(", ")}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
