import assert from "node:assert/strict";
import { test } from "node:test";

import { formatCents, parseAmount } from "../lib/money";

test("amounts are parsed to exact cents", () => {
  assert.equal(parseAmount("12"), 1200);
  assert.equal(parseAmount(" 12.5 "), 1250);
  assert.equal(parseAmount("19.99"), 1999);
  assert.equal(parseAmount("0.29"), 29);
  assert.equal(parseAmount("1234.07"), 123407);
});

test("what is not a plain amount is refused", () => {
  for (const text of ["", "abc", "12.345", "-5", "1e3", "12,50", ".5", "12."]) {
    assert.equal(parseAmount(text), null, text);
  }
});

test("cents are shown with two decimals and thousands separators", () => {
  assert.equal(formatCents(1205), "12.05");
  assert.equal(formatCents(5), "0.05");
  assert.equal(formatCents(0), "0.00");
  assert.equal(formatCents(123456789), "1,234,567.89");
  assert.equal(formatCents(-350), "-3.50");
});
