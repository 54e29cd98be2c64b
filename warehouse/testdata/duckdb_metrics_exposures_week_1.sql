WITH analysis_windows AS (
    SELECT 0 AS analysis_window_start, 6 AS analysis_window_end
),
enrollments AS (
    SELECT e.*, aw.* FROM "mozanalysis"."enrollments_test_experiment" e CROSS JOIN analysis_windows aw
    WHERE /* jetstream:clients of "mozanalysis"."enrollments_test_experiment" */ TRUE
),
ds_0_rows AS (
    SELECT e.analysis_id AS jetstream_enrolled_id, e.branch AS jetstream_enrolled_branch, ds.*
    FROM enrollments e
    JOIN "telemetry"."clients_daily" ds ON ds.client_id = e.analysis_id
    WHERE ds.submission_date BETWEEN DATE '2020-03-30' AND DATE '2020-04-12'
        AND ds.submission_date BETWEEN (e.exposure_date + CAST(e.analysis_window_start AS INTEGER)) AND (e.exposure_date + CAST(e.analysis_window_end AS INTEGER))
        AND (ds.submission_date != e.enrollment_date OR map_get_key(ds.experiments, 'test-experiment') IS NOT NULL)
),
ds_0 AS (
    SELECT
        e.analysis_id, e.branch, e.analysis_window_start, e.analysis_window_end,
        COALESCE(SUM(active_hours_sum), 0) AS "active_hours"
    FROM enrollments e
    LEFT JOIN ds_0_rows ds ON ds.jetstream_enrolled_id = e.analysis_id AND ds.jetstream_enrolled_branch = e.branch
    GROUP BY e.analysis_id, e.branch, e.analysis_window_start, e.analysis_window_end
)
SELECT e.analysis_id, e.branch, e.enrollment_date, e.exposure_date, e."regular_user_v3", ds_0."active_hours"
FROM enrollments e
LEFT JOIN ds_0 USING (analysis_id, branch, analysis_window_start, analysis_window_end)
WHERE e.enrollment_date IS NOT NULL AND e.exposure_date IS NOT NULL
ORDER BY e.analysis_id, e.branch
