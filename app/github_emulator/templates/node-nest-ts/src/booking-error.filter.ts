import { type ArgumentsHost, Catch, type ExceptionFilter } from "@nestjs/common";

import { BookingError } from "./booking.service.js";

const REASONS = { 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity" } as const;

// What the response needs from Express's, so that its types need not be installed.
interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

/** Answers a refused request in the shape of Nest's own errors: statusCode, error, message. */
@Catch(BookingError)
export class BookingErrorFilter implements ExceptionFilter<BookingError> {
  catch(error: BookingError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<JsonResponse>()
      .status(error.status)
      .json({ statusCode: error.status, error: REASONS[error.status], message: error.message });
  }
}
