DROP FUNCTION heepr_apply(JSONB);
