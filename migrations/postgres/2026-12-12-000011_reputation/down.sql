-- The counts stay: they are what the orders say.
SELECT 1;
