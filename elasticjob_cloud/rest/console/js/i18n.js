// zh / en: the chosen language is remembered in localStorage.

const STORAGE_KEY = 'ejc.lang';

const MESSAGES = {
  en: {
    'nav.apps': 'Apps', 'nav.jobs': 'Jobs', 'nav.status': 'Job status', 'nav.dashboard': 'Dashboard',
    'nav.executions': 'Execution history', 'nav.traces': 'Status history', 'nav.audit': 'Audit log',
    'nav.health': 'Health', logout: 'Log out',
    'login.title': 'Sign in', 'login.username': 'User name', 'login.password': 'Password',
    'login.submit': 'Sign in', 'login.failed': 'Wrong user name or password.',
    'role.admin': 'administrator', 'role.viewer': 'viewer (read only)', 'auth.off': 'authentication off',
    search: 'Search', add: 'Add', detail: 'Detail', modify: 'Modify', delete: 'Delete',
    disable: 'Disable', enable: 'Enable', trigger: 'Trigger now', save: 'Save', cancel: 'Cancel',
    operations: 'Operations', enabled: 'enabled', disabled: 'disabled', state: 'State',
    'confirm.delete': 'Delete {name}?', 'confirm.deleteApp': 'Delete app {name} and all its jobs?',
    done: 'Done.', loading: 'Loading…', empty: 'Nothing to show.', total: '{total} in all',
    prev: '‹ Previous', next: 'Next ›', page: 'Page {page} of {pages}', filter: 'Filter', reset: 'Reset',
    'notrace': 'No trace database configured (event_trace_rdb_url): history and statistics are empty.',
    'apps.title': 'Apps', 'apps.new': 'Add app', 'apps.edit': 'Modify app {name}', 'apps.detail': 'App {name}',
    'jobs.title': 'Jobs', 'jobs.new': 'Add job', 'jobs.edit': 'Modify job {name}',
    'job.title': 'Job {name}', 'job.config': 'Configuration', 'job.nextFires': 'Next fires ({zone})',
    'job.recentRuns': 'Recent runs', 'job.sandbox': 'Sandboxes of app {name}', 'job.duration': 'Duration',
    'job.p50': 'median {p50} ms, p95 {p95} ms over {count} runs', 'job.nosandbox': 'No executor of this app runs now.',
    'tail.title': 'Task output', 'tail.task': 'Task', 'tail.file': 'File', 'tail.refresh': 'Refresh',
    'tail.empty': '(empty so far)', 'tail.none': 'No task of this job to show: none runs now and no recent run is recorded.',
    'tail.meta': 'last {shown} of {size} bytes · {host} · {path}',
    'tail.standby': 'This instance is a standby: the leader reads sandboxes. This page on the leader →',
    'dep.title': 'Dependencies ({policy})', 'dep.upstream': 'waits for', 'dep.downstream': 'needed by',
    'dep.direction': 'Edge', 'dep.state': 'State', 'dep.at': 'Since', 'dep.WAITING': 'waiting',
    'dep.SATISFIED': 'satisfied', 'dep.FAILED': 'upstream failed', 'dep.graph': 'Dependency graph', 'dep.plain': 'Dependencies',
    'f.appName': 'App name', 'f.appURL': 'App URL', 'f.bootstrapScript': 'Bootstrap script',
    'f.cpuCount': 'CPUs', 'f.memoryMB': 'Memory (MB)', 'f.appCacheEnable': 'Cache the app package',
    'f.eventTraceSamplingCount': 'Event trace sampling count',
    'f.jobName': 'Job name', 'f.jobType': 'Job type', 'f.jobExecutionType': 'Execution type',
    'f.cron': 'Cron', 'f.timeZone': 'Time zone', 'f.shardingTotalCount': 'Sharding total count',
    'f.shardingItemParameters': 'Sharding item parameters', 'f.jobParameter': 'Job parameter',
    'f.failover': 'Failover', 'f.misfire': 'Misfire', 'f.description': 'Description',
    'f.jobClass': 'Job class', 'f.streamingProcess': 'Streaming process',
    'f.scriptCommandLine': 'Script command line', 'f.beanName': 'Bean name',
    'f.applicationContext': 'Application context',
    'f.job_exception_handler': 'Job exception handler', 'f.executor_service_handler': 'Executor service handler',
    'cron.preview': 'Next fires', 'cron.zoneDefault': 'scheduler default',
    'status.running': 'Running', 'status.ready': 'Ready', 'status.failover': 'Failover',
    'c.id': 'Task ID', 'c.shardingItems': 'Sharding items', 'c.type': 'Type', 'c.slaveId': 'Agent',
    'c.times': 'Times', 'c.unschedulable': 'Cannot fit any agent', 'c.originalTaskId': 'Original task ID', 'c.hostname': 'Host', 'c.path': 'Sandbox path',
    'c.ip': 'IP', 'c.taskId': 'Task ID', 'c.source': 'Source', 'c.startTime': 'Start time',
    'c.completeTime': 'Complete time', 'c.success': 'Result', 'c.failureCause': 'Failure cause',
    'c.executionType': 'Execution type', 'c.state': 'State', 'c.message': 'Message',
    'c.creationTime': 'Time', 'c.shardingItem': 'Shard', 'c.isSuccess': 'Result',
    'c.username': 'User', 'c.role': 'Role', 'c.address': 'Address', 'c.method': 'Method',
    'c.path2': 'Route', 'c.status': 'Status', 'c.body': 'Body', 'c.time': 'Time', 'c.endTime': 'To',
    'result.success': 'success', 'result.failed': 'failed', 'result.running': 'running', 'any': 'any',
    'dash.results': 'Task results', 'dash.lastMinute': 'Last minute', 'dash.lastHour': 'Last hour',
    'dash.lastWeek': 'Last week', 'dash.jobType': 'Job types', 'dash.executionType': 'Execution types',
    'dash.last24h': 'Task results, last 24 hours', 'dash.running': 'Running jobs and tasks, last week',
    'dash.register': 'Registered jobs', 'dash.successCount': 'Succeeded', 'dash.failedCount': 'Failed',
    'dash.jobs': 'Jobs', 'dash.tasks': 'Tasks', 'dash.nodata': 'No data yet.',
    'health.role': 'This instance', 'health.leader': 'Leader', 'health.zookeeper': 'ZooKeeper',
    'health.mesos': 'Mesos',
    'audit.title': 'Audit log: every accepted write',
    'audit.memory': 'No trace database configured: the audit log is kept in this process only (its last 10,000 writes) and lost at restart.',
  },
  zh: {
    'nav.apps': '应用', 'nav.jobs': '作业', 'nav.status': '作业状态', 'nav.dashboard': '作业看板',
    'nav.executions': '作业执行历史', 'nav.traces': '作业状态历史', 'nav.audit': '审计日志',
    'nav.health': '健康状态', logout: '退出',
    'login.title': '登录', 'login.username': '用户名', 'login.password': '密码',
    'login.submit': '登录', 'login.failed': '用户名或密码错误。',
    'role.admin': '管理员', 'role.viewer': '只读用户', 'auth.off': '未启用认证',
    search: '搜索', add: '添加', detail: '详情', modify: '修改', delete: '删除',
    disable: '禁用', enable: '启用', trigger: '立即触发', save: '保存', cancel: '取消',
    operations: '操作', enabled: '已启用', disabled: '已禁用', state: '状态',
    'confirm.delete': '确定删除 {name} 吗？', 'confirm.deleteApp': '确定删除应用 {name} 及其全部作业吗？',
    done: '完成。', loading: '加载中…', empty: '暂无数据。', total: '共 {total} 条',
    prev: '‹ 上一页', next: '下一页 ›', page: '第 {page} / {pages} 页', filter: '筛选', reset: '重置',
    'notrace': '未配置作业事件追踪数据库（event_trace_rdb_url）：历史与统计为空。',
    'apps.title': '应用列表', 'apps.new': '添加应用', 'apps.edit': '修改应用 {name}', 'apps.detail': '应用 {name}',
    'jobs.title': '作业列表', 'jobs.new': '添加作业', 'jobs.edit': '修改作业 {name}',
    'job.title': '作业 {name}', 'job.config': '配置', 'job.nextFires': '下次触发时间（{zone}）',
    'job.recentRuns': '最近执行', 'job.sandbox': '应用 {name} 的沙箱', 'job.duration': '耗时',
    'job.p50': '{count} 次执行：中位数 {p50} 毫秒，p95 {p95} 毫秒', 'job.nosandbox': '该应用当前没有运行的执行器。',
    'tail.title': '任务输出', 'tail.task': '任务', 'tail.file': '文件', 'tail.refresh': '刷新',
    'tail.empty': '（暂无输出）', 'tail.none': '该作业当前没有运行的任务，也没有最近的执行记录。',
    'tail.meta': '最后 {shown} / {size} 字节 · {host} · {path}',
    'tail.standby': '本实例为备用节点，沙箱由主节点读取。在主节点打开此页 →',
    'dep.title': '依赖（{policy}）', 'dep.upstream': '依赖于', 'dep.downstream': '被依赖于',
    'dep.direction': '方向', 'dep.state': '状态', 'dep.at': '时间', 'dep.WAITING': '等待中',
    'dep.SATISFIED': '已满足', 'dep.FAILED': '上游失败', 'dep.graph': '依赖关系图', 'dep.plain': '依赖',
    'f.appName': '应用名称', 'f.appURL': '应用包地址', 'f.bootstrapScript': '启动脚本',
    'f.cpuCount': 'CPU 数量', 'f.memoryMB': '内存（MB）', 'f.appCacheEnable': '缓存应用包',
    'f.eventTraceSamplingCount': '事件追踪采样数',
    'f.jobName': '作业名称', 'f.jobType': '作业类型', 'f.jobExecutionType': '作业执行类型',
    'f.cron': 'Cron 表达式', 'f.timeZone': '时区', 'f.shardingTotalCount': '分片总数',
    'f.shardingItemParameters': '分片序列号/参数对照表', 'f.jobParameter': '自定义参数',
    'f.failover': '失效转移', 'f.misfire': '错过重执行', 'f.description': '作业描述',
    'f.jobClass': '作业实现类', 'f.streamingProcess': '流式处理',
    'f.scriptCommandLine': '脚本命令行', 'f.beanName': 'Bean 名称',
    'f.applicationContext': 'Spring 配置文件',
    'f.job_exception_handler': '作业异常处理器', 'f.executor_service_handler': '线程池处理器',
    'cron.preview': '接下来的触发时间', 'cron.zoneDefault': '调度器默认时区',
    'status.running': '运行中', 'status.ready': '待运行', 'status.failover': '失效转移',
    'c.id': '任务 ID', 'c.shardingItems': '分片项', 'c.type': '类型', 'c.slaveId': '代理节点',
    'c.times': '次数', 'c.unschedulable': '无可容纳的代理节点', 'c.originalTaskId': '原任务 ID', 'c.hostname': '主机', 'c.path': '沙箱路径',
    'c.ip': 'IP', 'c.taskId': '任务 ID', 'c.source': '来源', 'c.startTime': '开始时间',
    'c.completeTime': '完成时间', 'c.success': '结果', 'c.failureCause': '失败原因',
    'c.executionType': '执行类型', 'c.state': '状态', 'c.message': '消息',
    'c.creationTime': '时间', 'c.shardingItem': '分片', 'c.isSuccess': '结果',
    'c.username': '用户', 'c.role': '角色', 'c.address': '地址', 'c.method': '方法',
    'c.path2': '路径', 'c.status': '状态码', 'c.body': '请求体', 'c.time': '时间', 'c.endTime': '至',
    'result.success': '成功', 'result.failed': '失败', 'result.running': '运行中', any: '全部',
    'dash.results': '任务执行结果', 'dash.lastMinute': '最近一分钟', 'dash.lastHour': '最近一小时',
    'dash.lastWeek': '最近一周', 'dash.jobType': '作业类型', 'dash.executionType': '作业执行类型',
    'dash.last24h': '最近 24 小时任务执行结果', 'dash.running': '最近一周运行中的作业与任务',
    'dash.register': '已注册作业数', 'dash.successCount': '成功', 'dash.failedCount': '失败',
    'dash.jobs': '作业', 'dash.tasks': '任务', 'dash.nodata': '暂无数据。',
    'health.role': '本实例', 'health.leader': '主节点', 'health.zookeeper': 'ZooKeeper',
    'health.mesos': 'Mesos',
    'audit.title': '审计日志：每一次被接受的写操作',
    'audit.memory': '未配置事件追踪数据库：审计日志仅保存在本进程内（最近 10,000 条），重启后丢失。',
  },
};

function initial() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && MESSAGES[saved]) return saved;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let current = initial();

export function lang() {
  return current;
}

export function setLang(value) {
  if (!MESSAGES[value]) return;
  current = value;
  localStorage.setItem(STORAGE_KEY, value);
  document.documentElement.lang = value === 'zh' ? 'zh-CN' : 'en';
}

export function t(key, vars = {}) {
  const text = MESSAGES[current][key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

export function translateStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}
