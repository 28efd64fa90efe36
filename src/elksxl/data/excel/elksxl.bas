Attribute VB_Name = "elksxl"
' elksxl: the "SMS" ribbon tab and macros for sending SMS through 46elks from this workbook.
' Needs the xlwings add-in (pip install elksxl; xlwings addin install) and, in the VBA editor,
' Tools > References > xlwings. Credentials come from the environment or the xlwings config
' file, never from a cell.
Option Explicit

' Ribbon buttons (customUI onAction callbacks)

Public Sub ElksCheck(control As IRibbonControl)
    ElksCheckSelection
End Sub

Public Sub ElksSend(control As IRibbonControl)
    ElksSendSelection
End Sub

Public Sub ElksImportFunctions(control As IRibbonControl)
    ImportPythonUDFs
End Sub

' The same actions as plain macros (Alt+F8, or a button on a sheet)

Public Sub ElksCheckSelection()
    RunPython "import elksxl.excel; elksxl.excel.check_selection()"
End Sub

Public Sub ElksSendSelection()
    RunPython "import elksxl.excel; elksxl.excel.send_selection()"
End Sub
