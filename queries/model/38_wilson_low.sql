-- wilson_low(k, n): the lower end of the 95 % Wilson score interval (z = 1.959964) of the share
-- k / n, null when n is 0. One definition for outcome rates and for the ranking of need gaps.
create macro wilson_low(k, n) as
    ((k / nullif(n, 0)) + 1.959964 ^ 2 / (2 * n)
        - 1.959964 * sqrt((k / nullif(n, 0)) * (1 - k / nullif(n, 0)) / n + 1.959964 ^ 2 / (4 * n * n)))
    / (1 + 1.959964 ^ 2 / n)
