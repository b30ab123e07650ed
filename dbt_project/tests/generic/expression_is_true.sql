{#- Every row satisfies a boolean SQL expression (restrict rows with the `where` config). -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
