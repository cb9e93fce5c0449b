-- wilson_high(k, n): the upper end of the 95 % Wilson score interval of k / n (see wilson_low).
create macro wilson_high(k, n) as
    ((k / nullif(n, 0)) + 1.959964 ^ 2 / (2 * n)
        + 1.959964 * sqrt((k / nullif(n, 0)) * (1 - k / nullif(n, 0)) / n + 1.959964 ^ 2 / (4 * n * n)))
    / (1 + 1.959964 ^ 2 / n)
