// The service asks the clock for "now" so that tests can fix or move time.
export type Clock = () => Date;

export const CLOCK = Symbol("clock");

export const systemClock: Clock = () => new Date();
