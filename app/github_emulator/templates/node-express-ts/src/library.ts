// The library's rules: members borrow books, at most MAX_ACTIVE_LOANS at a time, for
// LOAN_DAYS days; a late return costs LATE_FEE_CENTS per started day late.

export const MAX_ACTIVE_LOANS = 3;
export const LOAN_DAYS = 14;
export const LATE_FEE_CENTS = 25;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Book {
  id: number;
  title: string;
  copies: number;
}

export interface Loan {
  id: number;
  bookId: number;
  memberId: string;
  borrowedAt: string;
  dueAt: string;
  returnedAt: string | null;
  feeCents: number;
}

export class LibraryError extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export function lateFeeCents(dueAt: Date, returnedAt: Date): number {
  const lateMs = returnedAt.getTime() - dueAt.getTime();
  return lateMs <= 0 ? 0 : Math.ceil(lateMs / DAY_MS) * LATE_FEE_CENTS;
}

export class Library {
  private books = new Map<number, Book>();
  private loans = new Map<number, Loan>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  addBook(title: string, copies: number): Book {
    const book = { id: this.books.size + 1, title, copies };
    this.books.set(book.id, book);
    return book;
  }

  available(bookId: number): number {
    const book = this.book(bookId);
    return book.copies - this.activeLoans().filter((loan) => loan.bookId === bookId).length;
  }

  borrow(bookId: number, memberId: string): Loan {
    this.book(bookId);
    if (this.available(bookId) <= 0) {
      throw new LibraryError(409, "no copy of this book is available");
    }
    const active = this.activeLoans().filter((loan) => loan.memberId === memberId);
    if (active.length >= MAX_ACTIVE_LOANS) {
      throw new LibraryError(409, `members may hold at most ${MAX_ACTIVE_LOANS} loans`);
    }
    const borrowedAt = this.now();
    const loan: Loan = {
      id: this.loans.size + 1,
      bookId,
      memberId,
      borrowedAt: borrowedAt.toISOString(),
      dueAt: new Date(borrowedAt.getTime() + LOAN_DAYS * DAY_MS).toISOString(),
      returnedAt: null,
      feeCents: 0,
    };
    this.loans.set(loan.id, loan);
    return loan;
  }

  giveBack(loanId: number): Loan {
    const loan = this.loans.get(loanId);
    if (loan === undefined) throw new LibraryError(404, "loan not found");
    if (loan.returnedAt !== null) throw new LibraryError(409, "this loan was already returned");
    const returnedAt = this.now();
    loan.returnedAt = returnedAt.toISOString();
    loan.feeCents = lateFeeCents(new Date(loan.dueAt), returnedAt);
    return loan;
  }

  memberLoans(memberId: string): Loan[] {
    return [...this.loans.values()].filter((loan) => loan.memberId === memberId);
  }

  private activeLoans(): Loan[] {
    return [...this.loans.values()].filter((loan) => loan.returnedAt === null);
  }

  private book(bookId: number): Book {
    const book = this.books.get(bookId);
    if (book === undefined) throw new LibraryError(404, "book not found");
    return book;
  }
}
